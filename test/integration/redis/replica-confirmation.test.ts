/**
 * WAIT-confirmed exits on a real primary and replica: with
 * TRADINGCORE_REDIS_CONFIRM_REPLICAS 1, an exit is EXITED only once the
 * replica has it; with the replica stopped (by its pid), no order is sent
 * under an intent it did not confirm, and a fill whose EXITED it did not
 * confirm is answered PENDING_RECONCILE, never EXITED.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import type { Config } from "../../../src/config.js";
import { createRedisTrackerClient, type RedisTrackerClient } from "../../../src/store/redis-tracker-client.js";
import { RedisTrackerStore } from "../../../src/store/redis-tracker-store.js";
import { publishTick, registerTracker, uniqueOrderNo } from "../../support/fixtures.js";
import { RedisServer } from "../../support/redis-server.js";
import { SentinelTopology } from "../../support/redis-sentinel-topology.js";
import { startTestServer, type TestServer } from "../../support/test-server.js";
import { untilTrue } from "../../support/until.js";

const SLOW = 90_000;
const exit = (orderNo: string) => ({ orderNo, reason: "stop hit", reasonCode: ExitReasonCode.STOP_LOSS });

describe("ExecuteExit with one replica to confirm its writes", () => {
  let primary: RedisServer;
  let replica: RedisServer;
  let server: TestServer;
  let inspector: RedisTrackerClient;
  const prefix = `confirm-${process.pid}:`;

  beforeAll(async () => {
    primary = await RedisServer.start();
    replica = await RedisServer.start({ replicaOf: primary.port });
    const config: Partial<Config> = {
      redisUrl: primary.url,
      redisKeyPrefix: prefix,
      redisConfirmReplicas: 1,
      // Generous: on a busy machine a replica that is up may take a while to confirm; a stopped one costs this once per call.
      redisConfirmTimeoutMs: 1_500,
      fillWaitMs: 300,
      // The reconciler stays out of the way: what is checked is the call's own answer.
      reconcilerIntervalMs: 600_000,
    };
    server = await startTestServer({ config });
    inspector = createRedisTrackerClient(primary.url);
    await inspector.connect();
  }, SLOW);

  afterAll(async () => {
    await server?.close();
    if (inspector?.isOpen) inspector.destroy();
    await Promise.all([replica?.destroy(), primary?.destroy()]);
  }, SLOW);

  const stored = (orderNo: string) => new RedisTrackerStore(inspector, { keyPrefix: prefix }).get(orderNo);

  it(
    "answers EXITED once the replica confirmed the intent and the exit",
    async () => {
      await topologyReady(primary);
      const orderNo = await registerTracker(server, { orderNo: uniqueOrderNo("CONFIRMED") });
      const { result } = await server.exits.executeExit(exit(orderNo));
      expect(ExitStatus[result!.status]).toBe("EXITED");
      expect(server.paper.ordersFor(orderNo)).toBe(1);
      // The replica has it: read it there, not on the primary.
      const onReplica = createRedisTrackerClient(replica.url);
      await onReplica.connect();
      try {
        const copy = await new RedisTrackerStore(onReplica, { keyPrefix: prefix }).get(orderNo);
        expect(copy?.status).toBe(TrackerStatus.EXITED);
      } finally {
        onReplica.destroy();
      }
    },
    SLOW,
  );

  it(
    "answers PENDING_RECONCILE, not ALREADY_EXITED, for a fill whose EXITED the stopped replica never confirmed",
    async () => {
      await topologyReady(primary);
      const orderNo = await registerTracker(server, { orderNo: uniqueOrderNo("UNCONFIRMED-EXITED"), ltp: null, securityId: "61001" });
      // No price yet: the paper order waits for the instrument's next tick, under a confirmed intent.
      const first = await server.exits.executeExit(exit(orderNo));
      expect(ExitStatus[first.result!.status]).toBe("AWAITING_FILL");

      await replica.kill();
      try {
        await publishTick(server, "99.15", "61001");
        await untilTrue(async () => (await stored(orderNo))?.status === TrackerStatus.EXITED, "the tracker EXITED");

        const again = await server.exits.executeExit(exit(orderNo));
        expect(ExitStatus[again.result!.status]).toBe("PENDING_RECONCILE");
        expect(again.result!.message).toContain("0 of 1 replicas confirmed");
        expect(again.result!.exitPrice).toBe("99.15");
        expect(server.paper.ordersFor(orderNo)).toBe(1);
      } finally {
        await replica.restart();
      }
    },
    SLOW,
  );

  it(
    "sends nothing under an intent the stopped replica did not confirm, answering EXIT_IN_PROGRESS",
    async () => {
      await topologyReady(primary);
      await replica.kill();
      try {
        const orderNo = await registerTracker(server, { orderNo: uniqueOrderNo("UNCONFIRMED-INTENT") });
        const { result } = await server.exits.executeExit(exit(orderNo));
        expect(ExitStatus[result!.status]).toBe("EXIT_IN_PROGRESS");
        expect(result!.message).toContain("not confirmed by the store's replicas");
        expect(server.paper.ordersFor(orderNo)).toBe(0);
        // The intent stays on the primary, for the reconciler to resolve as never placed.
        expect((await stored(orderNo))?.status).toBe(TrackerStatus.EXITING);
      } finally {
        await replica.restart();
      }
    },
    SLOW,
  );
});

/** The replica (restarted or not) is in sync with the primary. */
async function topologyReady(primary: RedisServer): Promise<void> {
  await SentinelTopology.untilReplicaOnline(primary);
}
