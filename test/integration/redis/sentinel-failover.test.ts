/**
 * The tracker store through Sentinel, failing over under load: a primary, a
 * replica and three Sentinels (real redis-server processes), an independent
 * Redlock node, two tradingcore servers confirming every intent and EXITED
 * with the replica (WAIT 1), and one paper broker behind both. The primary is
 * killed with SIGKILL while exits run. Then: every exit that was answered
 * EXITED or ALREADY_EXITED is still EXITED on the promoted replica; no call
 * hangs past its deadline; once the old primary is back as a replica the
 * fleet carries on, every tracker ends EXITED, and the broker holds exactly
 * one order per tracker. A watcher of the fleet's audit trail, connected to
 * one server through it all, is never cut off and gets the EXITED of every
 * tracker, under strictly increasing sequences: the trail's appends and what
 * its follower delivers are confirmed by the replica, and an EXITED write
 * whose reply the kill lost is held in doubt until the promoted replica shows
 * it (writes-in-doubt.ts), and none is seen twice: an event sent again after
 * a failed append goes to the promoted replica only while the tracker store
 * there still holds the state it records (recorded-events.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { type ExitEvent, ExitEventKind } from "../../../gen/tradingcore/v1/exit_pb.js";
import type { Config } from "../../../src/config.js";
import { PaperRouter } from "../../../src/router/paper-router.js";
import { publishTick, registerTracker } from "../../support/fixtures.js";
import { RedisServer } from "../../support/redis-server.js";
import { SENTINEL_MASTER, SentinelTopology } from "../../support/redis-sentinel-topology.js";
import { startTestServer, type TestServer } from "../../support/test-server.js";

const SLOW = 150_000;
const TRACKERS = 24;
const KILL_AFTER_ACKNOWLEDGED = 6;
const CALL_DEADLINE_MS = 10_000;
const SETTLED = new Set([ExitStatus.EXITED, ExitStatus.ALREADY_EXITED]);

describe("ExecuteExit on a Sentinel-managed store when the primary is killed mid-load", () => {
  let topology: SentinelTopology;
  let lockNode: RedisServer;
  const servers: TestServer[] = [];
  const broker = new PaperRouter();
  const prefix = `failover-${process.pid}:`;

  beforeAll(async () => {
    [topology, lockNode] = await Promise.all([SentinelTopology.start(), RedisServer.start()]);
    const config: Partial<Config> = {
      redisSentinels: topology.sentinelUrls,
      redisSentinelMaster: SENTINEL_MASTER,
      redisLockUrls: [lockNode.url],
      redisKeyPrefix: prefix,
      redisConfirmReplicas: 1,
      redisConfirmTimeoutMs: 300,
      redisCommandTimeoutMs: 1_000,
      lockNodeTimeoutMs: 500,
      routerTimeoutMs: 500,
      // Short, so an intent left unconfirmed (nothing sent) is concluded never placed within the test.
      unknownOrderGraceMs: 2_500,
      sendDeadlineMarginMs: 200,
      reconcilerGraceMs: 500,
      reconcilerIntervalMs: 500,
      fillWaitMs: 500,
      ltpRedisHopTimeoutMs: 1_000,
    };
    for (let i = 0; i < 2; i++) servers.push(await startTestServer({ config, adapters: { router: broker } }));
  }, SLOW);

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await Promise.all([topology?.destroy(), lockNode?.destroy()]);
  }, SLOW);

  it(
    "keeps every acknowledged exit EXITED across the failover, sends nothing twice and carries on",
    async () => {
      const [first, second] = servers as [TestServer, TestServer];
      const orderNos: string[] = [];
      for (let i = 0; i < TRACKERS; i++)
        orderNos.push(await registerTracker(first, { orderNo: `FAILOVER-${process.pid}-${i}`, ltp: "101.55" }));
      await publishTick(second, "101.55");

      // From the start of the trail, through the failover, on the first server.
      const watched: ExitEvent[] = [];
      const stopWatching = new AbortController();
      let watchEnded = "";
      const watching = (async () => {
        try {
          for await (const { event } of first.exits.watchExits({ fromSequence: 0n }, { signal: stopWatching.signal })) watched.push(event!);
          watchEnded = "ended";
        } catch (error) {
          if (!stopWatching.signal.aborted) watchEnded = String(error);
        }
      })();

      const acknowledged = new Set<string>();
      const acknowledgedBeforeKill = new Set<string>();
      // A call the server did not answer by its deadline would fail on the client's side: a hang.
      const unclearErrors: string[] = [];
      const answered = new Map<string, number>();
      let killed = false;
      const timings: string[] = [];
      const exitUntilSettled = async (orderNo: string, via: TestServer) => {
        let last = "";
        for (const giveUpAt = Date.now() + 90_000; Date.now() < giveUpAt; ) {
          try {
            const { result } = await via.exits.executeExit(
              { orderNo, reason: "square off", reasonCode: ExitReasonCode.SESSION_END },
              { timeoutMs: CALL_DEADLINE_MS },
            );
            const status = ExitStatus[result!.status];
            last = `${status} ${result!.message}`;
            answered.set(status, (answered.get(status) ?? 0) + 1);
            if (SETTLED.has(result!.status)) {
              acknowledged.add(orderNo);
              if (!killed) acknowledgedBeforeKill.add(orderNo);
              return;
            }
          } catch (error) {
            // The store's outage, named: Redis refused (UNAVAILABLE) or did not answer in time (DEADLINE_EXCEEDED).
            const text = String(error);
            last = text;
            const code = /^Error: (\d+ [A-Z_]+)/.exec(text)?.[1] ?? text;
            answered.set(code, (answered.get(code) ?? 0) + 1);
            if (!/(UNAVAILABLE|DEADLINE_EXCEEDED): tracker store /.test(text)) unclearErrors.push(`${orderNo}: ${text}`);
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error(`${orderNo} never settled: ${last}`);
      };

      // Three workers per server, one tracker after another, while the primary dies under them.
      let next = 0;
      const worker = async (via: TestServer) => {
        while (next < orderNos.length) await exitUntilSettled(orderNos[next++]!, via);
      };
      const load = Promise.all([first, first, first, second, second, second].map(worker));
      const failover = (async () => {
        while (acknowledged.size < KILL_AFTER_ACKNOWLEDGED) await new Promise((resolve) => setTimeout(resolve, 10));
        killed = true;
        const killedAt = Date.now();
        await topology.primary.kill();
        await topology.untilMasterIs(topology.replica.port);
        timings.push(`replica promoted ${Date.now() - killedAt} ms after the kill`);
        // What was acknowledged before the kill is on the promoted replica.
        // The Sentinels name the new master before each server's client has followed it: until then a read
        // answers the store's outage (the documented retryable errors), so it is asked again, within a bound.
        const readAfterFailover = async (orderNo: string) => {
          for (const giveUpAt = Date.now() + 30_000; ; ) {
            try {
              return (await second.exits.getTracker({ orderNo })).tracker;
            } catch (error) {
              if (!/(UNAVAILABLE|DEADLINE_EXCEEDED): tracker store /.test(String(error)) || Date.now() > giveUpAt) throw error;
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
          }
        };
        for (const orderNo of acknowledgedBeforeKill) {
          const tracker = await readAfterFailover(orderNo);
          expect(TrackerStatus[tracker!.status], orderNo).toBe("EXITED");
        }
        // The old primary comes back empty; the Sentinels make it a replica of the promoted one.
        await topology.primary.restart();
        await SentinelTopology.untilReplicaOnline(topology.replica, 60_000);
        timings.push(`old primary back as a replica ${Date.now() - killedAt} ms after the kill`);
      })();
      await Promise.all([load, failover]);
      console.info(`answers during the failover: ${JSON.stringify(Object.fromEntries(answered))}; ${timings.join("; ")}`);

      expect(acknowledgedBeforeKill.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKNOWLEDGED);
      expect(await topology.masterPort()).toBe(topology.replica.port);
      expect(unclearErrors).toEqual([]);
      for (const orderNo of orderNos) {
        const { tracker } = await first.exits.getTracker({ orderNo });
        expect(TrackerStatus[tracker!.status], orderNo).toBe("EXITED");
        expect(broker.ordersFor(orderNo), orderNo).toBe(1);
      }

      // The fleet carries on: a tracker registered after the failover exits through either server at once.
      const later = await registerTracker(second, { orderNo: `FAILOVER-${process.pid}-after`, ltp: "101.55" });
      const { result } = await first.exits.executeExit({ orderNo: later, reason: "target", reasonCode: ExitReasonCode.TAKE_PROFIT });
      expect(ExitStatus[result!.status]).toBe("EXITED");
      expect(broker.ordersFor(later)).toBe(1);

      // The watcher: the EXITED of every tracker (those in flight at the kill too: an EXITED whose write's reply the
      // kill lost is published once the store shows it), each once (an EXITED written but not replicated before the
      // kill is not sent again to the promoted replica, which lacks its write: the reconciler's EXITED from the fill
      // stands for it); one strictly increasing order.
      const exitedOf = () => watched.filter((event) => event.kind === ExitEventKind.EXITED).map((event) => event.tracker!.orderNo);
      for (const giveUpAt = Date.now() + 30_000; exitedOf().length < orderNos.length + 1 && Date.now() < giveUpAt; )
        await new Promise((resolve) => setTimeout(resolve, 50));
      stopWatching.abort();
      await watching;
      expect(watchEnded).toBe("");
      const exited = exitedOf();
      expect([...new Set(exited)].sort()).toEqual([...orderNos, later].sort());
      expect(exited.filter((orderNo, i) => exited.indexOf(orderNo) !== i)).toEqual([]);
      const sequences = watched.map((event) => event.sequence);
      expect(sequences.every((sequence, i) => i === 0 || sequence > sequences[i - 1]!)).toBe(true);
      const lostReplies = watched.filter((event) => event.message.includes("the store's reply was lost"));
      console.info(
        `watcher: ${watched.length} events, sequences ${sequences[0]} to ${sequences.at(-1)}; ` +
          `published once the store showed a write whose reply was lost: ${lostReplies.map((event) => `${ExitEventKind[event.kind]} ${event.tracker!.orderNo}`).join(", ") || "none"}`,
      );
    },
    SLOW,
  );
});
