/**
 * The scheduler and the dead-man switch on Redis with real tradingcore
 * processes, each on its own timers and the wall clock: the process a strategy
 * talked to is killed with SIGKILL, and the two left carry out what it was
 * told, once, with no tick after registration. Orders are counted in the
 * paper order book the processes share.
 */
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, Segment, Side, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { ExitEventKind, ExitService } from "../../../gen/tradingcore/v1/exit_pb.js";
import { SessionLapseAction, SessionService, SessionStatus } from "../../../gen/tradingcore/v1/session_pb.js";
import { TickService } from "../../../gen/tradingcore/v1/tick_pb.js";
import { createGrpcJsClient } from "../../../src/client/grpc-js-client.js";
import { RedisPaperOrderBook } from "../../../src/router/redis-paper-order-book.js";
import { createRedisTrackerClient, type RedisTrackerClient } from "../../../src/store/redis-tracker-client.js";
import { uniqueOrderNo } from "../../support/fixtures.js";
import { RedisServer } from "../../support/redis-server.js";
import { startServerProcess, type ServerProcess } from "../../support/server-process.js";
import { until, untilTrue } from "../../support/until.js";

const SLOW = 180_000;
const SEGMENT = Segment.NSE_FNO;

interface Member {
  readonly server: ServerProcess;
  readonly exits: ReturnType<typeof createGrpcJsClient<(typeof ExitService)["method"]>>;
  readonly ticks: ReturnType<typeof createGrpcJsClient<(typeof TickService)["method"]>>;
  readonly sessions: ReturnType<typeof createGrpcJsClient<(typeof SessionService)["method"]>>;
}

describe("time exits and the dead-man switch across processes on one Redis", () => {
  let redis: RedisServer;
  let inspector: RedisTrackerClient;
  let book: RedisPaperOrderBook;
  const running = new Set<Member>();
  const prefix = `time-session-${process.pid}:`;
  const env = () => ({
    TRADINGCORE_REDIS_URL: redis.url,
    TRADINGCORE_REDIS_KEY_PREFIX: prefix,
    TRADINGCORE_LOG_LEVEL: "info",
    TRADINGCORE_LOCK_NODE_TIMEOUT_MS: "1000",
    TRADINGCORE_LTP_REDIS_HOP_TIMEOUT_MS: "2000",
    TRADINGCORE_SCHEDULER_INTERVAL_MS: "100",
    TRADINGCORE_SESSION_CHECK_INTERVAL_MS: "100",
    // Only the rules a test gives fire: no square-off at 15:15 in Kolkata whenever the suite runs.
    TRADINGCORE_SESSION_END_DEFAULTS: "none",
  });

  async function start(): Promise<Member> {
    const server = await startServerProcess(["--engine", "grpc-js"], env(), 60_000);
    const member = {
      server,
      exits: createGrpcJsClient(ExitService, server.address),
      ticks: createGrpcJsClient(TickService, server.address),
      sessions: createGrpcJsClient(SessionService, server.address),
    };
    running.add(member);
    return member;
  }

  async function kill(member: Member): Promise<void> {
    running.delete(member);
    member.exits.close();
    member.ticks.close();
    member.sessions.close();
    await member.server.stop("SIGKILL");
  }

  /** An LTP for the paper market to fill at; the tick cache is the fleet's, so one process hears it for all. */
  const tick = (via: Member, securityIds: string[]) =>
    via.ticks.publishTicks([{ ticks: securityIds.map((securityId) => ({ instrument: { segment: SEGMENT, securityId }, ltp: "101.55" })) }]);

  async function register(via: Member, securityId: string, extra: object): Promise<string> {
    const orderNo = uniqueOrderNo();
    await via.exits.registerTracker({
      orderNo,
      segment: SEGMENT,
      securityId,
      symbol: "NIFTY",
      side: Side.LONG,
      quantity: "75",
      entryPrice: "101.55",
      paper: true,
      ...extra,
    });
    return orderNo;
  }

  beforeAll(async () => {
    redis = await RedisServer.start({ appendOnly: true });
    inspector = createRedisTrackerClient(redis.url);
    await inspector.connect();
    book = new RedisPaperOrderBook(inspector, prefix);
  }, SLOW);

  afterAll(async () => {
    for (const member of running) {
      member.exits.close();
      member.ticks.close();
      member.sessions.close();
    }
    await Promise.all([...running].map((member) => member.server.stop("SIGTERM")));
    if (inspector?.isOpen) inspector.destroy();
    await redis?.destroy();
  }, SLOW);

  it(
    "fires a time exit once, with no tick after registration, when the process that took it was killed",
    async () => {
      const [first, second, third] = [await start(), await start(), await start()];
      await tick(first, ["9101"]);
      const dueMs = Date.now() + 2_000;
      const orderNo = await register(first, "9101", { exitPlan: { timeExit: { when: { case: "at", value: timestampFromMs(dueMs) } } } });
      expect(await inspector.zScore(`${prefix}due-exits`, `TIME_EXIT|${orderNo}`)).toBe(dueMs);
      await kill(first);
      const exited = await until(
        async () => (await second.exits.getTracker({ orderNo })).tracker!,
        (tracker) => tracker.status === TrackerStatus.EXITED,
        "the time exit",
      );
      expect(exited.exitReasonCode).toBe(ExitReasonCode.TIME_BASED);
      expect(exited.trigger?.tickTime).toEqual(timestampFromMs(dueMs));
      // The due time completed leaves nothing for any process to fire again: the claim let one of them fire.
      await untilTrue(
        async () => (await inspector.zScore(`${prefix}due-exits`, `TIME_EXIT|${orderNo}`)) === null,
        "the due time completed",
      );
      expect(await book.acceptedFor(orderNo)).toBe(1);
      expect((await third.exits.getTracker({ orderNo })).tracker!.exitAttempt).toBe(1);
      await Promise.all([kill(second), kill(third)]);
    },
    SLOW,
  );

  it(
    "exits every tracker of a session once when its strategy and the process it talked to go silent",
    async () => {
      const [first, second, third] = [await start(), await start(), await start()];
      const sessionId = uniqueOrderNo("S");
      await first.sessions.openSession({ sessionId, ttl: durationFromMs(1_000), lapseAction: SessionLapseAction.EXIT_ALL });
      const securityIds = ["9201", "9202", "9203"];
      await tick(first, [...securityIds, "9204"]);
      const mine = await Promise.all(securityIds.map((securityId) => register(first, securityId, { sessionId })));
      const unrelated = await register(first, "9204", {});
      expect(await inspector.zScore(`${prefix}sessions:due`, sessionId)).not.toBeNull();
      await kill(first);
      for (const orderNo of mine) {
        const exited = await until(
          async () => (await second.exits.getTracker({ orderNo })).tracker!,
          (tracker) => tracker.status === TrackerStatus.EXITED,
          `the lapse exit of ${orderNo}`,
        );
        expect(exited.exitReasonCode).toBe(ExitReasonCode.SESSION_LAPSED);
      }
      expect((await third.sessions.getSession({ sessionId })).session!.status).toBe(SessionStatus.LAPSED);
      // The lapse settled is claimed by no process again: one process acted on it, once.
      await untilTrue(async () => (await inspector.zScore(`${prefix}sessions:due`, sessionId)) === null, "the lapse settled");
      for (const orderNo of mine) expect(await book.acceptedFor(orderNo)).toBe(1);
      expect((await third.exits.getTracker({ orderNo: unrelated })).tracker!.status).toBe(TrackerStatus.ACTIVE);
      expect(await book.acceptedFor(unrelated)).toBe(0);
      // The fleet's audit trail tells each tracker's lapse once, whichever process acted on it.
      const { events } = await third.exits.queryExits({ kind: ExitEventKind.SESSION_LAPSED, pageSize: 100 });
      expect(
        events
          .filter((event) => event.sessionId === sessionId)
          .map((event) => event.tracker!.orderNo)
          .sort(),
      ).toEqual([...mine].sort());
      await Promise.all([kill(second), kill(third)]);
    },
    SLOW,
  );
});
