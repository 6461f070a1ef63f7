import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import type { LockLease } from "../../../src/exit/ports.js";
import { PaperRouter } from "../../../src/router/paper-router.js";
import { MemoryTrackerStore } from "../../../src/store/memory-tracker-store.js";
import { abortedWithin, engineOn, exitCommand, stallEventLoop, trackerSpec } from "../../support/exit-fixtures.js";
import { LockCluster } from "../../support/redis-lock-nodes.js";

const SLOW = 60_000;

function leaseOf(acquisition: Awaited<ReturnType<import("../../../src/exit/ports.js").ExitLock["acquire"]>>): LockLease {
  if (acquisition.kind !== "acquired") throw new Error(`expected the lock to be acquired, got ${JSON.stringify(acquisition)}`);
  return acquisition.lease;
}

describe.each([3, 5])("Redlock on %i nodes", (nodeCount) => {
  let cluster: LockCluster;
  const minority = Math.floor((nodeCount - 1) / 2);

  beforeAll(async () => {
    cluster = await LockCluster.start(nodeCount);
  }, SLOW);

  afterAll(async () => {
    await cluster?.destroy();
  }, SLOW);

  describe("when several processes contend for one resource", () => {
    it(
      "lets one holder in at a time, with fencing tokens that grow holder after holder",
      async () => {
        const lockers = await Promise.all([1, 2, 3, 4].map(() => cluster.redlock({ attempts: 1 })));
        const resource = "lock:exit:contended";
        let inside = 0;
        let mostInside = 0;
        const tokens: number[] = [];
        await Promise.all(
          lockers.map(async (lock) => {
            for (let round = 0; round < 25; round++) {
              const acquired = await lock.acquire(resource, 5_000);
              if (acquired.kind !== "acquired") continue;
              inside++;
              mostInside = Math.max(mostInside, inside);
              tokens.push(acquired.lease.fencingToken);
              await new Promise((resolve) => setImmediate(resolve));
              inside--;
              expect(await lock.release(acquired.lease)).toBe("released");
            }
          }),
        );
        expect(mostInside).toBe(1);
        expect(tokens.length).toBeGreaterThan(0);
        expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
        expect(new Set(tokens).size).toBe(tokens.length);
      },
      SLOW,
    );

    it(
      "answers busy, not an error, while another process holds it",
      async () => {
        const [holder, other] = [await cluster.redlock(), await cluster.redlock()];
        const lease = leaseOf(await holder.acquire("lock:exit:busy", 5_000));
        expect(await other.acquire("lock:exit:busy", 5_000)).toMatchObject({ kind: "busy" });
        expect(await holder.release(lease)).toBe("released");
        expect((await other.acquire("lock:exit:busy", 5_000)).kind).toBe("acquired");
      },
      SLOW,
    );
  });

  describe("when a resource is locked for the first time", () => {
    it(
      "starts its fence counter at one value on every node, in one round trip",
      async () => {
        // A node answering late on a loaded machine would fail the round and start another: the count below
        // is the algorithm's, so no node may be timed out here.
        const lock = await cluster.redlock({ nodeTimeoutMs: 30_000 });
        // Loads the scripts on every node, so the round below is one EVALSHA per node.
        expect(await lock.release(leaseOf(await lock.acquire("lock:exit:warm-up", 5_000)))).toBe("released");
        await Promise.all(cluster.servers.map((_, i) => cluster.raw(i, (client) => client.configResetStat())));

        const resource = "lock:exit:first-time";
        // A TTL whose automatic extension (every third of it) cannot fall inside this test on a loaded machine:
        // an extension is one more script call per node.
        const lease = leaseOf(await lock.acquire(resource, 60_000));
        // Long enough for a background EXTEND of lagging nodes to land, were one sent.
        await new Promise((resolve) => setTimeout(resolve, 100));

        const perNode = await Promise.all(
          cluster.servers.map((_, i) =>
            cluster.raw(i, async (client) => ({
              fence: await client.get(`${resource}:fence`),
              scriptCalls: scriptCallsIn(await client.info("commandstats")),
            })),
          ),
        );
        expect(perNode.map((node) => node.fence)).toEqual(perNode.map(() => String(lease.fencingToken)));
        expect(perNode.map((node) => node.scriptCalls)).toEqual(perNode.map(() => 1));
        expect(await lock.release(lease)).toBe("released");
      },
      SLOW,
    );
  });

  describe("when a resource has not been locked for a long time", () => {
    it(
      "sets its fence counter to expire that long after the last lock, and a counter started again still counts above every earlier token",
      async () => {
        // An idle expiry no loaded machine can outrun between the release and the read; the expiry itself is
        // Redis's, so the test removes the counters as it would instead of waiting on the wall clock.
        const idleMs = 60_000;
        const lock = await cluster.redlock({ fenceIdleTtlMs: idleMs });
        const resource = "lock:exit:idle";
        const fenceKey = `${resource}:fence`;
        const first = leaseOf(await lock.acquire(resource, 5_000));
        expect(await lock.release(first)).toBe("released");
        const ttls = await Promise.all(cluster.servers.map((_, i) => cluster.raw(i, (client) => client.pTTL(fenceKey))));
        for (const ttl of ttls) {
          expect(ttl).toBeGreaterThan(0);
          expect(ttl).toBeLessThanOrEqual(idleMs);
        }

        await Promise.all(cluster.servers.map((_, i) => cluster.raw(i, (client) => client.del(fenceKey))));
        const again = leaseOf(await lock.acquire(resource, 5_000));
        expect(again.fencingToken).toBeGreaterThan(first.fencingToken);
        expect(await lock.release(again)).toBe("released");
      },
      SLOW,
    );

    it(
      "gives a fence counter the default idle expiry of days, renewed by each lock",
      async () => {
        const lock = await cluster.redlock();
        const resource = "lock:exit:idle-default";
        expect(await lock.release(leaseOf(await lock.acquire(resource, 5_000)))).toBe("released");
        const ttl = await cluster.raw(0, (client) => client.pTTL(`${resource}:fence`));
        expect(ttl).toBeGreaterThan(6 * 24 * 3_600_000);
      },
      SLOW,
    );
  });

  describe("when a resource's counter survives on one slow node only, and the others start theirs", () => {
    it(
      "waits for the slow node and hands out a token above its counter, published to a quorum",
      async () => {
        const lock = await cluster.redlock();
        const resource = "lock:exit:ahead-and-slow";
        const farAhead = Date.now() * 1000 + 10 ** 12;
        await cluster.raw(0, (client) => client.set(`${resource}:fence`, String(farAhead)));
        // Node 0 is busy for 300 ms, so the other nodes answer first, all with the counter they just started.
        const busy = cluster.raw(0, (client) => client.eval(BUSY_FOR_US, { arguments: ["300000"] }));
        await new Promise((resolve) => setTimeout(resolve, 50));

        const lease = leaseOf(await lock.acquire(resource, 5_000));
        await busy;

        expect(lease.fencingToken).toBe(farAhead + 1);
        const fences = await Promise.all(cluster.servers.map((_, i) => cluster.raw(i, (client) => client.get(`${resource}:fence`))));
        expect(fences.filter((fence) => fence === String(farAhead + 1)).length).toBeGreaterThanOrEqual(Math.floor(nodeCount / 2) + 1);
        expect(await lock.release(lease)).toBe("released");
      },
      SLOW,
    );
  });

  describe("when a release comes from a lease that is no longer the holder", () => {
    it(
      "changes nothing and reports held-by-other",
      async () => {
        const [first, second, third] = [await cluster.redlock(), await cluster.redlock(), await cluster.redlock()];
        const stale = leaseOf(await first.acquire("lock:exit:owner-only", 5_000));
        expect(await first.release(stale)).toBe("released");
        const current = leaseOf(await second.acquire("lock:exit:owner-only", 5_000));
        expect(await first.release(stale)).toBe("held-by-other");
        expect(await third.acquire("lock:exit:owner-only", 5_000)).toMatchObject({ kind: "busy" });
        expect(await second.release(current)).toBe("released");
      },
      SLOW,
    );

    it(
      "reports not-held when nobody holds it any more",
      async () => {
        const lock = await cluster.redlock();
        const lease = leaseOf(await lock.acquire("lock:exit:not-held", 5_000));
        expect(await lock.release(lease)).toBe("released");
        expect(await lock.release(lease)).toBe("not-held");
      },
      SLOW,
    );
  });

  describe("when a slow holder works past its TTL", () => {
    it(
      "keeps the lock by extending it, and its signal stays quiet",
      async () => {
        const [holder, other] = [await cluster.redlock(), await cluster.redlock()];
        // TTL generous against event-loop stalls on a loaded machine; the wait still spans two TTLs.
        const lease = leaseOf(await holder.acquire("lock:exit:slow", 3_000));
        await new Promise((resolve) => setTimeout(resolve, 7_000));
        expect(await other.acquire("lock:exit:slow", 3_000)).toMatchObject({ kind: "busy" });
        expect(lease.signal.aborted).toBe(false);
        expect(await holder.release(lease)).toBe("released");
      },
      SLOW,
    );
  });

  describe("when a holder is paused past its TTL", () => {
    it(
      "is overtaken, its signal fires, and its late tracker write is refused by fencing",
      async () => {
        const [paused, successor] = [await cluster.redlock(), await cluster.redlock()];
        const store = new MemoryTrackerStore();
        const { tracker } = await store.register(trackerSpec("PAUSED-1"), Date.now());
        const stale = leaseOf(await paused.acquire("lock:exit:PAUSED-1", 1_000));

        stallEventLoop(2_500);

        const fresh = leaseOf(await successor.acquire("lock:exit:PAUSED-1", 5_000));
        expect(fresh.fencingToken).toBeGreaterThan(stale.fencingToken);
        const intent = { ...tracker, status: TrackerStatus.EXITING, fencingToken: fresh.fencingToken };
        expect((await store.compareAndSet(intent, tracker.version)).kind).toBe("written");

        const late = { ...tracker, status: TrackerStatus.EXITING, fencingToken: stale.fencingToken };
        expect((await store.compareAndSet(late, tracker.version)).kind).toBe("fenced");
        await expect(abortedWithin(stale.signal, 10_000)).resolves.toBeInstanceOf(Error);
        expect(await successor.release(fresh)).toBe("released");
      },
      SLOW,
    );
  });

  describe("when lock nodes are down", () => {
    it(
      "still acquires and releases with a minority down",
      async () => {
        const lock = await cluster.redlock();
        const down = Array.from({ length: minority }, (_, i) => i);
        await cluster.stopNodes(...down);
        try {
          const lease = leaseOf(await lock.acquire("lock:exit:minority-down", 5_000));
          expect(await lock.release(lease)).toBe("released");
        } finally {
          await cluster.restartNodes(...down);
        }
      },
      SLOW,
    );

    it(
      "answers unavailable with a majority down, and the exit places no order",
      async () => {
        const lock = await cluster.redlock({ attempts: 2 });
        const store = new MemoryTrackerStore();
        await store.register(trackerSpec("MAJORITY-DOWN-1"), Date.now());
        const router = new PaperRouter();
        const engine = engineOn({ store, lock, router });
        const down = Array.from({ length: minority + 1 }, (_, i) => i);
        await cluster.stopNodes(...down);
        try {
          expect(await lock.acquire("lock:exit:majority-down", 5_000)).toMatchObject({ kind: "unavailable" });
          const outcome = await engine.execute(exitCommand("MAJORITY-DOWN-1"));
          expect(outcome.status).toBe(ExitStatus.LOCK_UNAVAILABLE);
          expect(router.acceptedOrders).toBe(0);
          expect((await store.get("MAJORITY-DOWN-1"))?.status).toBe(TrackerStatus.ACTIVE);
        } finally {
          await cluster.restartNodes(...down);
        }
      },
      SLOW,
    );

    it(
      "hands out a token above every earlier one when the node that was ahead is gone",
      async () => {
        const lock = await cluster.redlock();
        const ahead = cluster.servers[0]!;
        const resource = "lock:exit:diverged";
        // Node 0 is far ahead of the others (e.g. its clock ran fast when it last granted the lock).
        const farAhead = String(Date.now() * 1000 + 10 ** 12);
        await cluster.raw(0, (client) => client.set(`${resource}:fence`, farAhead));
        const first = leaseOf(await lock.acquire(resource, 5_000));
        expect(first.fencingToken).toBe(Number(farAhead) + 1);
        expect(await lock.release(first)).toBe("released");
        await ahead.stop();
        try {
          const second = leaseOf(await lock.acquire(resource, 5_000));
          expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
          expect(await lock.release(second)).toBe("released");
        } finally {
          await ahead.restart();
        }
      },
      SLOW,
    );
  });

  describe("when every lock node restarts without its data", () => {
    it(
      "still hands out a fencing token above every earlier one",
      async () => {
        const before = await cluster.redlock();
        const first = leaseOf(await before.acquire("lock:exit:amnesia", 5_000));
        expect(await before.release(first)).toBe("released");
        await cluster.restartNodes(...cluster.servers.map((_, i) => i));
        const after = await cluster.redlock();
        const second = leaseOf(await after.acquire("lock:exit:amnesia", 5_000));
        expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
        expect(await after.release(second)).toBe("released");
      },
      SLOW,
    );
  });

  describe("when the script cache is flushed mid-run", () => {
    it(
      "keeps acquiring and releasing",
      async () => {
        const lock = await cluster.redlock();
        for (let round = 0; round < 3; round++) {
          const lease = leaseOf(await lock.acquire("lock:exit:flushed", 5_000));
          await Promise.all(cluster.servers.map((_, i) => cluster.raw(i, (client) => client.scriptFlush())));
          expect(await lock.release(lease)).toBe("released");
        }
      },
      SLOW,
    );
  });
});

/** Keeps a node busy (it answers nothing else) for ARGV[1] µs. */
const BUSY_FOR_US = `
local function now() local t = redis.call('time') return tonumber(t[1]) * 1000000 + tonumber(t[2]) end
local stop = now() + tonumber(ARGV[1])
while now() < stop do end
return 1`;

/** EVAL and EVALSHA calls a node counted since its stats were reset, from INFO commandstats. */
function scriptCallsIn(commandstats: string): number {
  let calls = 0;
  for (const match of commandstats.matchAll(/^cmdstat_(?:eval|evalsha):calls=(\d+)/gm)) calls += Number(match[1]);
  return calls;
}
