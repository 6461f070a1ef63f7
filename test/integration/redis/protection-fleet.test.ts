/**
 * Time exits, session-end square-offs and the dead-man switch (EXIT_ALL and
 * TIGHTEN) on one Redis shared by three tradingcore instances (each with its
 * own Redis connections, lock, scheduler and watchdog, as three processes
 * have) and one clock the test moves: with no tick after registration, each due time and each lapse
 * sends exactly one order, counted in the shared paper order book; due times
 * survive a restart of the whole fleet.
 */
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, Segment, Side, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { ExitService } from "../../../gen/tradingcore/v1/exit_pb.js";
import { SessionLapseAction, SessionService } from "../../../gen/tradingcore/v1/session_pb.js";
import { TickService } from "../../../gen/tradingcore/v1/tick_pb.js";
import { createGrpcJsClient } from "../../../src/client/grpc-js-client.js";
import { defaultConfig, type Config } from "../../../src/config.js";
import { startTradingCore, type RunningTradingCore } from "../../../src/main.js";
import { RedisPaperOrderBook } from "../../../src/router/redis-paper-order-book.js";
import { createRedisTrackerClient, type RedisTrackerClient } from "../../../src/store/redis-tracker-client.js";
import { uniqueOrderNo } from "../../support/fixtures.js";
import { RedisServer } from "../../support/redis-server.js";
import { ManualClock } from "../../unit/exit/exit-world.js";

const SLOW = 120_000;
const MINUTE = 60_000;

interface Instance {
  readonly core: RunningTradingCore;
  readonly exits: ReturnType<typeof createGrpcJsClient<(typeof ExitService)["method"]>>;
  readonly ticks: ReturnType<typeof createGrpcJsClient<(typeof TickService)["method"]>>;
  readonly sessions: ReturnType<typeof createGrpcJsClient<(typeof SessionService)["method"]>>;
  close(): Promise<void>;
}

describe("three tradingcore instances on one Redis", () => {
  let redis: RedisServer;
  let inspector: RedisTrackerClient;
  let book: RedisPaperOrderBook;
  let fleet: Instance[] = [];
  const clock = new ManualClock(Date.parse("2026-03-02T09:15:00Z"));
  const prefix = `protection-fleet-${process.pid}:`;

  async function start(): Promise<Instance> {
    const config: Config = {
      ...defaultConfig(),
      port: 0,
      engine: "grpc-js",
      logLevel: "silent",
      shutdownGraceMs: 2_000,
      redisUrl: redis.url,
      redisKeyPrefix: prefix,
      lockNodeTimeoutMs: 1_000,
      ltpRedisHopTimeoutMs: 2_000,
      // Passes run when the test says so, never on their own timers.
      schedulerIntervalMs: 60_000,
      sessionCheckIntervalMs: 60_000,
      reconcilerIntervalMs: 3_600_000,
    };
    const core = await startTradingCore(config, { clock, log: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }) });
    const clients = {
      exits: createGrpcJsClient(ExitService, core.address),
      ticks: createGrpcJsClient(TickService, core.address),
      sessions: createGrpcJsClient(SessionService, core.address),
    };
    return {
      core,
      ...clients,
      async close() {
        for (const client of Object.values(clients)) client.close();
        await core.stop();
      },
    };
  }

  /** One tick of each instrument in every instance: the paper market then fills at once, whichever instance exits. */
  async function tick(securityIds: string[], segment: Segment) {
    for (const { ticks } of fleet) {
      await ticks.publishTicks([{ ticks: securityIds.map((securityId) => ({ instrument: { segment, securityId }, ltp: "101.55" })) }]);
    }
  }

  async function register(via: Instance, securityId: string, segment: Segment, extra: object) {
    const orderNo = uniqueOrderNo();
    await via.exits.registerTracker({
      orderNo,
      segment,
      securityId,
      symbol: "X",
      side: Side.LONG,
      quantity: "75",
      entryPrice: "101.55",
      paper: true,
      ...extra,
    });
    return orderNo;
  }

  const passes = () => Promise.all(fleet.map(({ core }) => core.timeExits.runOnce()));
  const watchdogs = () => Promise.all(fleet.map(({ core }) => core.sessionWatchdog.runOnce()));
  const trackerOf = async (orderNo: string) => (await fleet[0]!.exits.getTracker({ orderNo })).tracker!;

  beforeAll(async () => {
    redis = await RedisServer.start({ appendOnly: true });
    for (let i = 0; i < 3; i++) fleet.push(await start());
    inspector = createRedisTrackerClient(redis.url);
    await inspector.connect();
    book = new RedisPaperOrderBook(inspector, prefix);
  }, SLOW);

  afterAll(async () => {
    await Promise.all(fleet.map((instance) => instance.close()));
    if (inspector?.isOpen) inspector.destroy();
    await redis?.destroy();
  }, SLOW);

  it(
    "fires each time exit and session-end square-off once across the fleet, with no tick after registration",
    async () => {
      const timed = ["9101", "9102", "9103"];
      const squared = ["9201", "9202", "9203"];
      await tick(timed, Segment.IDX_I);
      await tick(squared, Segment.NSE_FNO);
      const timeExit = { exitPlan: { timeExit: { when: { case: "after", value: durationFromMs(10 * MINUTE) } } } };
      // No session end in the plan: the NSE_FNO default, 15:15 in Asia/Kolkata (09:45 UTC).
      const stopOnly = { exitPlan: { stopLoss: { level: { case: "points", value: "20" } } } };
      const timedOrders = await Promise.all(timed.map((id, i) => register(fleet[i]!, id, Segment.IDX_I, timeExit)));
      const squaredOrders = await Promise.all(squared.map((id, i) => register(fleet[i]!, id, Segment.NSE_FNO, stopOnly)));

      clock.advance(10 * MINUTE);
      await passes();
      for (const orderNo of timedOrders) {
        expect(await trackerOf(orderNo)).toMatchObject({ status: TrackerStatus.EXITED, exitReasonCode: ExitReasonCode.TIME_BASED });
        expect(await book.acceptedFor(orderNo), orderNo).toBe(1);
      }
      for (const orderNo of squaredOrders) expect((await trackerOf(orderNo)).status).toBe(TrackerStatus.ACTIVE);

      clock.advance(20 * MINUTE);
      await passes();
      for (const orderNo of squaredOrders) {
        expect(await trackerOf(orderNo)).toMatchObject({ status: TrackerStatus.EXITED, exitReasonCode: ExitReasonCode.SESSION_END });
        expect(await book.acceptedFor(orderNo), orderNo).toBe(1);
      }
      clock.advance(10 * MINUTE);
      await passes();
      for (const orderNo of [...timedOrders, ...squaredOrders]) expect(await book.acceptedFor(orderNo), orderNo).toBe(1);
    },
    SLOW,
  );

  it(
    "exits every tracker of a lapsed session once across the fleet, whichever instance had its heartbeats",
    async () => {
      const sessionId = uniqueOrderNo("S");
      await fleet[0]!.sessions.openSession({ sessionId, ttl: durationFromMs(5_000), lapseAction: SessionLapseAction.EXIT_ALL });
      const ids = ["9301", "9302", "9303", "9304"];
      await tick(ids, Segment.IDX_I);
      const orderNos = await Promise.all(ids.map((id, i) => register(fleet[i % 3]!, id, Segment.IDX_I, { sessionId })));
      clock.advance(4_000);
      await fleet[2]!.sessions.heartbeat({ sessionId });
      clock.advance(4_999);
      await watchdogs();
      for (const orderNo of orderNos) expect((await trackerOf(orderNo)).status).toBe(TrackerStatus.ACTIVE);

      clock.advance(1);
      const done = await watchdogs();
      expect(done.reduce((sum, pass) => sum + pass.claimed, 0)).toBe(1);
      for (const orderNo of orderNos) {
        expect(await trackerOf(orderNo)).toMatchObject({
          status: TrackerStatus.EXITED,
          exitReasonCode: ExitReasonCode.SESSION_LAPSED,
          sessionId,
        });
        expect(await book.acceptedFor(orderNo), orderNo).toBe(1);
      }
      clock.advance(MINUTE);
      await watchdogs();
      for (const orderNo of orderNos) expect(await book.acceptedFor(orderNo), orderNo).toBe(1);
    },
    SLOW,
  );

  it(
    "gives the trackers of a lapsed TIGHTEN session its fallback plan once across the fleet, and sends no order",
    async () => {
      const sessionId = uniqueOrderNo("S");
      await fleet[0]!.sessions.openSession({
        sessionId,
        ttl: durationFromMs(5_000),
        lapseAction: SessionLapseAction.TIGHTEN,
        fallbackPlan: { stopLoss: { level: { case: "percent", value: "0.5" } } },
      });
      const ids = ["9351", "9352"];
      await tick(ids, Segment.IDX_I);
      const orderNos = await Promise.all(ids.map((id, i) => register(fleet[i + 1]!, id, Segment.IDX_I, { sessionId })));
      clock.advance(5_000);
      const done = await watchdogs();
      expect(done.reduce((sum, pass) => sum + pass.claimed, 0)).toBe(1);
      expect(done.reduce((sum, pass) => sum + pass.tightened, 0)).toBe(2);
      for (const orderNo of orderNos) {
        const tracker = await trackerOf(orderNo);
        expect(tracker.status).toBe(TrackerStatus.ACTIVE);
        expect(tracker.exitPlan?.stopLoss?.level).toEqual({ case: "percent", value: "0.5" });
        expect(await book.acceptedFor(orderNo), orderNo).toBe(0);
      }
      expect((await fleet[2]!.sessions.getSession({ sessionId })).session?.fallbackPlan?.stopLoss?.level).toEqual({
        case: "percent",
        value: "0.5",
      });
    },
    SLOW,
  );

  it(
    "keeps due times across a restart of the whole fleet: one that passed while nothing ran fires once at the first pass",
    async () => {
      await tick(["9401"], Segment.IDX_I);
      const orderNo = await register(fleet[1]!, "9401", Segment.IDX_I, {
        exitPlan: { timeExit: { when: { case: "after", value: durationFromMs(5 * MINUTE) } } },
      });
      await Promise.all(fleet.map((instance) => instance.close()));
      fleet = [];
      clock.advance(30 * MINUTE);
      fleet.push(await start(), await start());
      await tick(["9401"], Segment.IDX_I);
      await passes();
      expect(await trackerOf(orderNo)).toMatchObject({ status: TrackerStatus.EXITED, exitReasonCode: ExitReasonCode.TIME_BASED });
      expect(await book.acceptedFor(orderNo)).toBe(1);
    },
    SLOW,
  );
});
