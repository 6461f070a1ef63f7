/**
 * Time exits and session-end square-offs over a real server, with no tick
 * after registration: the scheduler fires them from their due times alone.
 * Time is a clock the test moves (09:15 UTC, 14:45 in Asia/Kolkata, at the
 * start); the scheduler's pass is run by the test, never waited for.
 */
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, Segment, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { ProtectionRule } from "../../gen/tradingcore/v1/protection_pb.js";
import { PaperRouter } from "../../src/router/paper-router.js";
import { publishTick, uniqueOrderNo } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { ManualClock } from "../unit/exit/exit-world.js";

const MINUTE = 60_000;
/** Background passes never run during a test: each test runs the pass itself. */
const QUIET = { schedulerIntervalMs: 60_000, sessionCheckIntervalMs: 60_000 };
const STOP_ONLY = { stopLoss: { level: { case: "points" as const, value: "20" } } };

describe("the time-exit scheduler", () => {
  let server: TestServer;
  const clock = new ManualClock(Date.parse("2026-03-02T09:15:00Z"));
  beforeAll(async () => {
    const router = new PaperRouter({ now: () => clock.now() });
    server = await startTestServer({ config: QUIET, adapters: { clock, router } });
  });
  afterAll(() => server.close());

  async function register(securityId: string, exitPlan: object, segment = Segment.NSE_FNO) {
    const orderNo = uniqueOrderNo();
    await publishTick(server, "101.55", securityId, segment);
    await server.exits.registerTracker({
      orderNo,
      segment,
      securityId,
      symbol: "NIFTY26MAR24000CE",
      side: Side.LONG,
      quantity: "75",
      entryPrice: "101.55",
      paper: true,
      exitPlan,
    });
    return orderNo;
  }
  const trackerOf = async (orderNo: string) => (await server.exits.getTracker({ orderNo })).tracker!;
  const pass = () => server.core.timeExits.runOnce();

  it("exits a tracker once its holding time has passed, with TIME_BASED, and only once", async () => {
    const orderNo = await register("8101", { timeExit: { when: { case: "after", value: durationFromMs(10 * MINUTE) } } }, Segment.IDX_I);
    clock.advance(10 * MINUTE - 1);
    await pass();
    expect((await trackerOf(orderNo)).status).toBe(TrackerStatus.ACTIVE);
    clock.advance(1);
    await pass();
    expect(await trackerOf(orderNo)).toMatchObject({
      status: TrackerStatus.EXITED,
      exitReasonCode: ExitReasonCode.TIME_BASED,
      exitPrice: "101.55",
      trigger: { rule: ProtectionRule.TIME_EXIT, tickTime: timestampFromMs(clock.now()) },
    });
    clock.advance(MINUTE);
    await pass();
    expect(server.paper.ordersFor(orderNo)).toBe(1);
  });

  it("exits at a timestamp", async () => {
    const orderNo = await register(
      "8102",
      { timeExit: { when: { case: "at", value: timestampFromMs(clock.now() + 5 * MINUTE) } } },
      Segment.IDX_I,
    );
    clock.advance(5 * MINUTE);
    await pass();
    expect((await trackerOf(orderNo)).exitReasonCode).toBe(ExitReasonCode.TIME_BASED);
    expect(server.paper.ordersFor(orderNo)).toBe(1);
  });

  it("squares off at the plan's session end in the exchange's time zone, with SESSION_END", async () => {
    const now = clock.now();
    const dueMs = Date.parse("2026-03-02T09:45:00Z"); // 15:15 in Kolkata (+05:30)
    expect(now).toBeLessThan(dueMs);
    const orderNo = await register("8103", { ...STOP_ONLY, sessionEnd: { localTime: "15:15", timeZone: "Asia/Kolkata" } }, Segment.IDX_I);
    clock.advance(dueMs - now - 1);
    await pass();
    expect((await trackerOf(orderNo)).status).toBe(TrackerStatus.ACTIVE);
    clock.advance(1);
    await pass();
    expect(await trackerOf(orderNo)).toMatchObject({ status: TrackerStatus.EXITED, exitReasonCode: ExitReasonCode.SESSION_END });
  });

  it("squares off at the segment's default when the plan names no session end, and not when it opts out", async () => {
    const day = Math.floor(clock.now() / 86_400_000) * 86_400_000;
    clock.advance(day + 86_400_000 + 3 * 3_600_000 - clock.now()); // 03:00 UTC the next day: 08:30 in Kolkata
    const defaulted = await register("8104", STOP_ONLY, Segment.NSE_FNO);
    const optedOut = await register("8105", { ...STOP_ONLY, sessionEnd: { optOut: true } }, Segment.NSE_FNO);
    clock.advance(6 * 3_600_000 + 45 * MINUTE); // 09:45 UTC: 15:15 in Kolkata, the NSE_FNO default
    await pass();
    expect(await trackerOf(defaulted)).toMatchObject({ status: TrackerStatus.EXITED, exitReasonCode: ExitReasonCode.SESSION_END });
    expect((await trackerOf(optedOut)).status).toBe(TrackerStatus.ACTIVE);
    expect(server.paper.ordersFor(optedOut)).toBe(0);
  });

  it("sends nothing for a time exit the plan removed before it was due, and fires a moved one at its new time only", async () => {
    const removed = await register("8106", { timeExit: { when: { case: "after", value: durationFromMs(MINUTE) } } }, Segment.IDX_I);
    const moved = await register("8107", { timeExit: { when: { case: "after", value: durationFromMs(MINUTE) } } }, Segment.IDX_I);
    const removedAt = await trackerOf(removed);
    await server.exits.updateExitPlan({ orderNo: removed, expectedVersion: removedAt.version, exitPlan: STOP_ONLY });
    const movedAt = await trackerOf(moved);
    await server.exits.updateExitPlan({
      orderNo: moved,
      expectedVersion: movedAt.version,
      exitPlan: { timeExit: { when: { case: "after", value: durationFromMs(30 * MINUTE) } } },
    });
    clock.advance(MINUTE);
    await pass();
    expect((await trackerOf(removed)).status).toBe(TrackerStatus.ACTIVE);
    expect((await trackerOf(moved)).status).toBe(TrackerStatus.ACTIVE);
    clock.advance(29 * MINUTE);
    await pass();
    expect((await trackerOf(moved)).exitReasonCode).toBe(ExitReasonCode.TIME_BASED);
    expect((await trackerOf(removed)).status).toBe(TrackerStatus.ACTIVE);
    expect(server.paper.ordersFor(removed)).toBe(0);
  });
});
