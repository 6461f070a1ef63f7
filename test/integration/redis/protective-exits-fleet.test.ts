/**
 * Protective exits on Redis with real tradingcore processes: a process
 * killed mid-path is replaced by one that protects with the same trail,
 * three processes fed the same tick stream send one order per trigger, and
 * a plan registered through one process is protected by another, which
 * learns of it from the protection change log.
 */
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, Segment, Side, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { ExitService } from "../../../gen/tradingcore/v1/exit_pb.js";
import { ProtectionRule } from "../../../gen/tradingcore/v1/protection_pb.js";
import { TickService } from "../../../gen/tradingcore/v1/tick_pb.js";
import { createGrpcJsClient } from "../../../src/client/grpc-js-client.js";
import { RedisPaperOrderBook } from "../../../src/router/redis-paper-order-book.js";
import { RedisProtectionStates } from "../../../src/store/redis-protection-states.js";
import { createRedisTrackerClient, type RedisTrackerClient } from "../../../src/store/redis-tracker-client.js";
import { RedisServer } from "../../support/redis-server.js";
import { startServerProcess, type ServerProcess } from "../../support/server-process.js";
import { until } from "../../support/until.js";

const SLOW = 180_000;
const SEGMENT = Segment.NSE_FNO;

type ExitClient = ReturnType<typeof createGrpcJsClient<(typeof ExitService)["method"]>>;
type TickClient = ReturnType<typeof createGrpcJsClient<(typeof TickService)["method"]>>;

describe("protective exits on Redis across processes", () => {
  let redis: RedisServer;
  let inspector: RedisTrackerClient;
  const running = new Set<ServerProcess>();
  const prefix = `protection-${process.pid}:`;
  let tickMs = Date.now();
  const env = () => ({
    TRADINGCORE_REDIS_URL: redis.url,
    TRADINGCORE_REDIS_KEY_PREFIX: prefix,
    TRADINGCORE_LOG_LEVEL: "info",
    TRADINGCORE_LOCK_NODE_TIMEOUT_MS: "1000",
    TRADINGCORE_LTP_REDIS_HOP_TIMEOUT_MS: "2000",
    TRADINGCORE_PROTECTION_FLUSH_MS: "20",
    TRADINGCORE_PROTECTION_REFRESH_MS: "200",
  });
  const start = async () => {
    const server = await startServerProcess(["--engine", "grpc-js"], env(), 60_000);
    running.add(server);
    return server;
  };
  const stop = async (server: ServerProcess, signal: NodeJS.Signals) => {
    running.delete(server);
    await server.stop(signal);
  };

  beforeAll(async () => {
    redis = await RedisServer.start({ appendOnly: true });
    inspector = createRedisTrackerClient(redis.url);
    await inspector.connect();
  }, SLOW);

  afterAll(async () => {
    await Promise.all([...running].map((server) => server.stop("SIGTERM")));
    if (inspector?.isOpen) inspector.destroy();
    await redis?.destroy();
  }, SLOW);

  function publish(feeds: readonly TickClient[], securityId: string, ...prices: string[]) {
    return (async () => {
      for (const ltp of prices) {
        // Fresh and increasing: a tick older than the stale limit would rightly fire nothing.
        tickMs = Math.max(tickMs + 1, Date.now());
        const request = { ticks: [{ instrument: { segment: SEGMENT, securityId }, ltp, time: timestampFromMs(tickMs) }] };
        await Promise.all(feeds.map((feed) => feed.publishTicks([request])));
      }
    })();
  }

  const register = (exits: ExitClient, orderNo: string, securityId: string, exitPlan: object) =>
    exits.registerTracker({
      orderNo,
      segment: SEGMENT,
      securityId,
      symbol: "NIFTY",
      side: Side.LONG,
      quantity: "75",
      entryPrice: "100",
      paper: true,
      exitPlan,
    });

  it(
    "protects with the same trail after the process is killed mid-path and another starts",
    async () => {
      const orderNo = `RESTART-${process.pid}`;
      const securityId = "8101";
      const first = await start();
      let exits = createGrpcJsClient(ExitService, first.address);
      let feed = createGrpcJsClient(TickService, first.address);
      await register(exits, orderNo, securityId, { trailingStop: { distance: { distance: { case: "points", value: "2" } } } });
      await publish([feed], securityId, "100", "110", "109");
      // Read in Redis itself: GetTracker answers the process's own state, which may not be written yet.
      const stored = new RedisProtectionStates(inspector, prefix, 2_000);
      await until(
        async () => (await stored.get([orderNo])).get(orderNo),
        (state) => state?.trailLevel?.toFixed() === "108",
        "the trail at 108 stored",
      );
      exits.close();
      feed.close();
      await stop(first, "SIGKILL");

      const second = await start();
      exits = createGrpcJsClient(ExitService, second.address);
      feed = createGrpcJsClient(TickService, second.address);
      try {
        // A trail started afresh here would arm at 108.5 and stand at 106.5: 108 would not reach it.
        await publish([feed], securityId, "108.5", "108");
        const exited = await until(
          () => exits.getTracker({ orderNo }),
          (answer) => answer.tracker?.status === TrackerStatus.EXITED,
          "the tracker EXITED",
        );
        expect(exited.tracker?.exitReasonCode).toBe(ExitReasonCode.TRAILING_STOP);
        expect(exited.tracker?.trigger).toMatchObject({ rule: ProtectionRule.TRAILING_STOP, level: "108", tickPrice: "108" });
        expect(await new RedisPaperOrderBook(inspector, prefix).acceptedFor(orderNo)).toBe(1);
      } finally {
        exits.close();
        feed.close();
        await stop(second, "SIGTERM");
      }
    },
    SLOW,
  );

  it(
    "exits through another process than the one the plan was registered with, which learns of it from the change log",
    async () => {
      const orderNo = `ELSEWHERE-${process.pid}`;
      const securityId = "8103";
      const [told, learning] = [await start(), await start()];
      const exits = [told, learning].map((server) => createGrpcJsClient(ExitService, server.address));
      const feed = createGrpcJsClient(TickService, learning.address);
      try {
        await register(exits[0]!, orderNo, securityId, { stopLoss: { level: { case: "points", value: "2" } } });
        // Only the other process is fed ticks: it fires once its refresh has read the log (every 200 ms here).
        const exited = await until(
          async () => {
            await publish([feed], securityId, "97");
            return exits[1]!.getTracker({ orderNo });
          },
          (answer) => answer.tracker?.status === TrackerStatus.EXITED,
          "the tracker EXITED",
        );
        expect(exited.tracker?.exitReasonCode).toBe(ExitReasonCode.STOP_LOSS);
        expect(exited.tracker?.trigger).toMatchObject({ rule: ProtectionRule.STOP_LOSS, tickPrice: "97" });
        expect(await new RedisPaperOrderBook(inspector, prefix).acceptedFor(orderNo)).toBe(1);
      } finally {
        for (const client of [...exits, feed]) client.close();
        await Promise.all([told, learning].map((server) => stop(server, "SIGTERM")));
      }
    },
    SLOW,
  );

  it(
    "sends one order per trigger when three processes are fed the same ticks",
    async () => {
      const fleet = [await start(), await start(), await start()];
      const exits = fleet.map((server) => createGrpcJsClient(ExitService, server.address));
      const feeds = fleet.map((server) => createGrpcJsClient(TickService, server.address));
      const orderNos = Array.from({ length: 8 }, (_, i) => `FLEET-${process.pid}-${i}`);
      const securityId = "8102";
      try {
        for (const orderNo of orderNos) {
          const plan = { stopLoss: { level: { case: "points", value: String(2 + (orderNos.indexOf(orderNo) % 4)) } } };
          // Registered through each process (idempotent), so every book holds it before the ticks.
          for (const client of exits) await register(client, orderNo, securityId, plan);
        }
        await publish(feeds, securityId, "100", "99", "98.5", "97", "96", "95", "94", "93");
        const book = new RedisPaperOrderBook(inspector, prefix);
        for (const orderNo of orderNos) {
          const exited = await until(
            () => exits[0]!.getTracker({ orderNo }),
            (answer) => answer.tracker?.status === TrackerStatus.EXITED,
            `${orderNo} EXITED`,
          );
          expect(exited.tracker?.exitReasonCode, orderNo).toBe(ExitReasonCode.STOP_LOSS);
        }
        // Any duplicate would have been sent by now: every exit answered before its tracker read EXITED.
        for (const orderNo of orderNos) expect(await book.acceptedFor(orderNo), orderNo).toBe(1);
      } finally {
        for (const client of [...exits, ...feeds]) client.close();
        await Promise.all(fleet.map((server) => stop(server, "SIGTERM")));
      }
    },
    SLOW,
  );
});
