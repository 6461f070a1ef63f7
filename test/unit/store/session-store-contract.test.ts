/**
 * The SessionStore contract, run against every adapter: what the dead-man
 * switch relies on whichever store is configured. Time is the argument each
 * call is given; nothing here waits on a clock.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SessionLapseAction, SessionStatus } from "../../../gen/tradingcore/v1/session_pb.js";
import { Money } from "../../../src/domain/money.js";
import type { SessionStore } from "../../../src/session/session-store.js";
import { MemorySessionStore } from "../../../src/store/memory-session-store.js";
import { RedisSessionStore } from "../../../src/store/redis-session-store.js";
import { redisStoreHarnessForFile } from "../../support/redis-store.js";

const SLOW = 60_000;
const redis = redisStoreHarnessForFile(SLOW);
const T0 = Date.parse("2026-03-02T09:15:00Z");
const TTL = 5_000;
const spec = (sessionId = "strategy-a") => ({ sessionId, ttlMs: TTL, lapseAction: SessionLapseAction.EXIT_ALL });

const adapters: Array<[string, () => Promise<{ store: SessionStore; other: () => Promise<SessionStore> }>]> = [
  [
    "MemorySessionStore",
    async () => {
      const store = new MemorySessionStore();
      return { store, other: async () => store };
    },
  ],
  [
    "RedisSessionStore",
    async () => {
      const prefix = `test:${randomUUID()}:`;
      const make = async () => new RedisSessionStore(await redis().client(), prefix, 2_000);
      return { store: await make(), other: make };
    },
  ],
];

describe.each(adapters)("%s", (_name, makeStores) => {
  describe("when opening", () => {
    it(
      "opens a session whose lease ends one ttl later",
      async () => {
        const { store } = await makeStores();
        const { session, created } = await store.open(spec(), T0);
        expect(created).toBe(true);
        expect(session).toMatchObject({ status: SessionStatus.OPEN, expiresAt: T0 + TTL, openedAt: T0, lastHeartbeatAt: T0 });
        expect(await store.get("strategy-a")).toEqual(session);
      },
      SLOW,
    );

    it(
      "answers the open session again for the same spec, as a heartbeat",
      async () => {
        const { store } = await makeStores();
        await store.open(spec(), T0);
        const again = await store.open(spec(), T0 + 1_000);
        expect(again.created).toBe(false);
        expect(again.session.expiresAt).toBe(T0 + 1_000 + TTL);
      },
      SLOW,
    );

    it(
      "refuses another ttl under the same id",
      async () => {
        const { store } = await makeStores();
        await store.open(spec(), T0);
        await expect(store.open({ ...spec(), ttlMs: 9_000 }, T0)).rejects.toMatchObject({ code: "failed-precondition" });
      },
      SLOW,
    );
  });

  describe("when opening with a fallback plan", () => {
    const tighten = () => ({
      sessionId: "strategy-t",
      ttlMs: TTL,
      lapseAction: SessionLapseAction.TIGHTEN,
      fallbackPlan: { stopLoss: { kind: "percent" as const, value: new Money("0.5") } },
    });

    it(
      "keeps the plan, and answers the session again for the same one",
      async () => {
        const { store } = await makeStores();
        await store.open(tighten(), T0);
        expect((await store.get("strategy-t"))?.fallbackPlan).toEqual(tighten().fallbackPlan);
        expect(
          (await store.open({ ...tighten(), fallbackPlan: { stopLoss: { kind: "percent", value: new Money("0.50") } } }, T0)).created,
        ).toBe(false);
      },
      SLOW,
    );

    it(
      "refuses another fallback plan under the same id",
      async () => {
        const { store } = await makeStores();
        await store.open(tighten(), T0);
        const other = { ...tighten(), fallbackPlan: { stopLoss: { kind: "points" as const, value: new Money("3") } } };
        await expect(store.open(other, T0)).rejects.toMatchObject({ code: "failed-precondition" });
      },
      SLOW,
    );
  });

  describe("when heartbeats arrive", () => {
    it(
      "extends the lease from each heartbeat",
      async () => {
        const { store } = await makeStores();
        await store.open(spec(), T0);
        const session = await store.heartbeat("strategy-a", T0 + 4_000);
        expect(session.expiresAt).toBe(T0 + 9_000);
        expect(await store.claimLapsed(T0 + 8_999, 1_000, 10)).toEqual([]);
      },
      SLOW,
    );

    it(
      "refuses an unknown session as not-found",
      async () => {
        const { store } = await makeStores();
        await expect(store.heartbeat("nobody", T0)).rejects.toMatchObject({ code: "not-found" });
      },
      SLOW,
    );

    it(
      "refuses a heartbeat once the lease passed, even before a lapse is claimed",
      async () => {
        const { store } = await makeStores();
        await store.open(spec(), T0);
        await expect(store.heartbeat("strategy-a", T0 + TTL)).rejects.toMatchObject({ code: "failed-precondition" });
      },
      SLOW,
    );
  });

  describe("when the lease passes", () => {
    it(
      "hands the lapse to one claimer, marked LAPSED at the lease's end",
      async () => {
        const { store, other } = await makeStores();
        const second = await other();
        await store.open(spec(), T0);
        const [a, b] = await Promise.all([store.claimLapsed(T0 + TTL, 30_000, 10), second.claimLapsed(T0 + TTL, 30_000, 10)]);
        const claims = [...a, ...b];
        expect(claims).toHaveLength(1);
        expect(claims[0]).toMatchObject({ first: true, session: { status: SessionStatus.LAPSED, endedAt: T0 + TTL } });
      },
      SLOW,
    );

    it(
      "hands an unsettled lapse out again after the retry delay, and never once settled",
      async () => {
        const { store } = await makeStores();
        await store.open(spec(), T0);
        await store.claimLapsed(T0 + TTL, 30_000, 10);
        expect(await store.claimLapsed(T0 + TTL + 29_999, 30_000, 10)).toEqual([]);
        const retried = await store.claimLapsed(T0 + TTL + 30_000, 30_000, 10);
        expect(retried.map((claim) => claim.first)).toEqual([false]);
        await store.settle("strategy-a");
        expect(await store.claimLapsed(T0 + 1_000_000, 30_000, 10)).toEqual([]);
      },
      SLOW,
    );

    it(
      "claims at most `limit` sessions at once",
      async () => {
        const { store } = await makeStores();
        for (const id of ["s1", "s2", "s3"]) await store.open(spec(id), T0);
        expect(await store.claimLapsed(T0 + TTL, 1_000, 2)).toHaveLength(2);
        expect(await store.claimLapsed(T0 + TTL, 1_000, 2)).toHaveLength(1);
      },
      SLOW,
    );
  });

  describe("when closing", () => {
    it(
      "closes a live session, which then never lapses",
      async () => {
        const { store } = await makeStores();
        await store.open(spec(), T0);
        const closed = await store.close("strategy-a", T0 + 1_000);
        expect(closed).toMatchObject({ status: SessionStatus.CLOSED, endedAt: T0 + 1_000 });
        expect(await store.claimLapsed(T0 + 1_000_000, 1_000, 10)).toEqual([]);
        expect((await store.close("strategy-a", T0 + 2_000)).status).toBe(SessionStatus.CLOSED);
        await expect(store.heartbeat("strategy-a", T0 + 2_000)).rejects.toMatchObject({ code: "failed-precondition" });
      },
      SLOW,
    );

    it(
      "refuses to close a lapsed session",
      async () => {
        const { store } = await makeStores();
        await store.open(spec(), T0);
        await expect(store.close("strategy-a", T0 + TTL + 1)).rejects.toMatchObject({ code: "failed-precondition" });
        await store.claimLapsed(T0 + TTL + 1, 1_000, 10);
        await expect(store.close("strategy-a", T0 + TTL + 2)).rejects.toMatchObject({ code: "failed-precondition" });
        await expect(store.open(spec(), T0 + TTL + 2)).rejects.toMatchObject({ code: "failed-precondition" });
      },
      SLOW,
    );
  });

  describe("when trackers are attached", () => {
    it(
      "keeps the order_nos of a live session",
      async () => {
        const { store } = await makeStores();
        await store.open(spec(), T0);
        await store.attach("strategy-a", "ENTRY-2", T0 + 1);
        await store.attach("strategy-a", "ENTRY-1", T0 + 2);
        await store.attach("strategy-a", "ENTRY-1", T0 + 3);
        expect(await store.trackersOf("strategy-a")).toEqual(["ENTRY-1", "ENTRY-2"]);
      },
      SLOW,
    );

    it(
      "refuses an unknown session and one past its lease",
      async () => {
        const { store } = await makeStores();
        await expect(store.attach("nobody", "ENTRY-1", T0)).rejects.toMatchObject({ code: "not-found" });
        await store.open(spec(), T0);
        await expect(store.attach("strategy-a", "ENTRY-1", T0 + TTL)).rejects.toMatchObject({ code: "failed-precondition" });
        expect(await store.trackersOf("strategy-a")).toEqual([]);
      },
      SLOW,
    );
  });
});

describe("RedisSessionStore retention of sessions that are over", () => {
  const RETENTION = 3_600_000;
  const storeIn = async () => {
    const prefix = `test:${randomUUID()}:`;
    const client = await redis().client();
    const ttls = async (sessionId: string) => ({
      hash: await client.eval("return redis.call('PTTL', KEYS[1])", { keys: [`${prefix}session:${sessionId}`] }),
      trackers: await client.eval("return redis.call('PTTL', KEYS[1])", { keys: [`${prefix}session-trackers:${sessionId}`] }),
    });
    return { store: new RedisSessionStore(client, prefix, 2_000, RETENTION), ttls };
  };
  const within = (ms: unknown) => typeof ms === "number" && ms > 0 && ms <= RETENTION;

  it(
    "keeps an open session with no expiry and gives a closed one, and its trackers, the retention",
    async () => {
      const { store, ttls } = await storeIn();
      await store.open(spec(), T0);
      await store.attach("strategy-a", "ENTRY-1", T0 + 1);
      expect(await ttls("strategy-a")).toEqual({ hash: -1, trackers: -1 });
      await store.close("strategy-a", T0 + 2);
      const after = await ttls("strategy-a");
      expect(within(after.hash) && within(after.trackers), JSON.stringify(after)).toBe(true);
      // Still readable meanwhile.
      expect((await store.get("strategy-a"))?.status).toBe(SessionStatus.CLOSED);
    },
    SLOW,
  );

  it(
    "keeps a lapsed session until its lapse is settled, then gives it the retention",
    async () => {
      const { store, ttls } = await storeIn();
      await store.open(spec(), T0);
      await store.attach("strategy-a", "ENTRY-1", T0 + 1);
      expect(await store.claimLapsed(T0 + TTL, 30_000, 10)).toHaveLength(1);
      expect(await ttls("strategy-a")).toEqual({ hash: -1, trackers: -1 });
      await store.settle("strategy-a");
      const after = await ttls("strategy-a");
      expect(within(after.hash) && within(after.trackers), JSON.stringify(after)).toBe(true);
      expect(await store.claimLapsed(T0 + TTL + 60_000, 30_000, 10)).toEqual([]);
    },
    SLOW,
  );
});
