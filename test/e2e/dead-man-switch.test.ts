/**
 * The dead-man switch over a real server: a strategy opens a session,
 * registers trackers under it and goes silent. Time is a clock the test
 * moves; the watchdog's pass is run by the test, never waited for.
 */
import { status as GrpcStatus } from "@grpc/grpc-js";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, Segment, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { ExitEventKind } from "../../gen/tradingcore/v1/exit_pb.js";
import { SessionLapseAction, SessionStatus } from "../../gen/tradingcore/v1/session_pb.js";
import { PaperRouter } from "../../src/router/paper-router.js";
import { registerTracker, uniqueOrderNo, validRegisterRequest } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { ManualClock } from "../unit/exit/exit-world.js";
import { until } from "../support/until.js";

const TTL_MS = 5_000;
/** The background pass never runs during a test: each test runs the pass itself. */
const QUIET_WATCHDOG = { sessionCheckIntervalMs: 60_000 };

function openSession(server: TestServer, sessionId = uniqueOrderNo("S")) {
  return server.sessions
    .openSession({ sessionId, ttl: durationFromMs(TTL_MS), lapseAction: SessionLapseAction.EXIT_ALL })
    .then(({ session }) => session!);
}

async function statusOf(server: TestServer, orderNo: string) {
  return (await server.exits.getTracker({ orderNo })).tracker!;
}

describe("a strategy that goes silent", () => {
  let server: TestServer;
  const clock = new ManualClock();
  beforeAll(async () => {
    // The paper market reads the same clock: it checks each order's send deadline against it.
    const router = new PaperRouter({ now: () => clock.now() });
    server = await startTestServer({ config: QUIET_WATCHDOG, adapters: { clock, router } });
  });
  afterAll(() => server.close());

  it("keeps its trackers while heartbeats arrive within the ttl", async () => {
    const { sessionId } = await openSession(server);
    const orderNo = await registerTracker(server, { sessionId, securityId: "7101" });
    for (let i = 0; i < 3; i++) {
      clock.advance(TTL_MS - 1);
      const { session } = await server.sessions.heartbeat({ sessionId });
      expect(session!.status).toBe(SessionStatus.OPEN);
      await server.core.sessionWatchdog.runOnce();
    }
    expect((await statusOf(server, orderNo)).status).toBe(TrackerStatus.ACTIVE);
    expect(server.paper.ordersFor(orderNo)).toBe(0);
    await server.sessions.closeSession({ sessionId });
  });

  it("has every tracker of the session exited once, with SESSION_LAPSED, once the ttl passes without a heartbeat", async () => {
    const { sessionId } = await openSession(server);
    const mine = [
      await registerTracker(server, { sessionId, securityId: "7201" }),
      await registerTracker(server, { sessionId, securityId: "7202" }),
    ];
    const unrelated = await registerTracker(server, { securityId: "7203" });
    const controller = new AbortController();
    const events: Array<{ kind: ExitEventKind; orderNo: string; sessionId: string }> = [];
    const watching = (async () => {
      try {
        for await (const { event } of server.exits.watchExits({}, { signal: controller.signal })) {
          events.push({ kind: event!.kind, orderNo: event!.tracker!.orderNo, sessionId: event!.sessionId });
          if (events.filter((e) => e.kind === ExitEventKind.EXITED).length === 2) controller.abort();
        }
      } catch {
        // aborted
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 50)); // the watch is open before the lapse

    clock.advance(TTL_MS - 1);
    await server.core.sessionWatchdog.runOnce();
    expect((await statusOf(server, mine[0]!)).status).toBe(TrackerStatus.ACTIVE);

    clock.advance(1);
    await server.core.sessionWatchdog.runOnce();
    for (const orderNo of mine) {
      const tracker = await statusOf(server, orderNo);
      expect(tracker).toMatchObject({ status: TrackerStatus.EXITED, exitReasonCode: ExitReasonCode.SESSION_LAPSED, sessionId });
      expect(server.paper.ordersFor(orderNo)).toBe(1);
    }
    expect((await statusOf(server, unrelated)).status).toBe(TrackerStatus.ACTIVE);
    await watching;
    const lapsed = events.filter((e) => e.kind === ExitEventKind.SESSION_LAPSED);
    expect(lapsed.map((e) => e.orderNo).sort()).toEqual([...mine].sort());
    expect(lapsed.every((e) => e.sessionId === sessionId)).toBe(true);

    // Later passes and a late heartbeat change nothing.
    clock.advance(60_000);
    await server.core.sessionWatchdog.runOnce();
    for (const orderNo of mine) expect(server.paper.ordersFor(orderNo)).toBe(1);
    await expect(server.sessions.heartbeat({ sessionId })).rejects.toMatchObject({ code: GrpcStatus.FAILED_PRECONDITION });
    expect((await server.sessions.getSession({ sessionId })).session!.status).toBe(SessionStatus.LAPSED);
  });

  it("gives the trackers of a TIGHTEN session its fallback plan, sends nothing, and the tightened stop fires on a later tick", async () => {
    const sessionId = uniqueOrderNo("S");
    await server.sessions.openSession({
      sessionId,
      ttl: durationFromMs(TTL_MS),
      lapseAction: SessionLapseAction.TIGHTEN,
      fallbackPlan: { stopLoss: { level: { case: "percent", value: "1" } } },
    });
    const securityId = "7401";
    const orderNo = await registerTracker(server, { sessionId, securityId, entryPrice: "100", ltp: "100" });
    const withPlan = await registerTracker(server, { sessionId, securityId, entryPrice: "100", ltp: "100" });
    const before = await statusOf(server, withPlan);
    await server.exits.updateExitPlan({
      orderNo: withPlan,
      expectedVersion: before.version,
      exitPlan: { stopLoss: { level: { case: "points", value: "10" } }, takeProfit: { level: { case: "points", value: "20" } } },
    });
    clock.advance(TTL_MS);
    const lapse = await server.core.sessionWatchdog.runOnce();
    expect(lapse).toMatchObject({ claimed: 1, tightened: 2, unsettled: 0 });
    const tightened = await statusOf(server, withPlan);
    expect(tightened.status).toBe(TrackerStatus.ACTIVE);
    expect(tightened.exitPlan?.stopLoss?.level).toEqual({ case: "percent", value: "1" });
    expect(tightened.exitPlan?.takeProfit?.level).toEqual({ case: "points", value: "20" });
    expect((await statusOf(server, orderNo)).exitPlan?.stopLoss?.level).toEqual({ case: "percent", value: "1" });
    expect(server.paper.ordersFor(orderNo) + server.paper.ordersFor(withPlan)).toBe(0);

    // 99.5 is above the 1 % stop (99); 98.9 crosses it.
    for (const ltp of ["99.5", "98.9"]) {
      clock.advance(1);
      await server.ticks.publishTicks([
        { ticks: [{ instrument: { segment: Segment.NSE_FNO, securityId }, ltp, time: timestampFromMs(clock.now()) }] },
      ]);
    }
    for (const each of [orderNo, withPlan]) {
      const exited = await until(
        () => statusOf(server, each),
        (tracker) => tracker.status === TrackerStatus.EXITED,
        `${each} EXITED`,
      );
      expect(exited.exitReasonCode).toBe(ExitReasonCode.STOP_LOSS);
      expect(server.paper.ordersFor(each)).toBe(1);
    }
  });

  it("leaves the trackers of a session closed cleanly alone", async () => {
    const { sessionId } = await openSession(server);
    const orderNo = await registerTracker(server, { sessionId, securityId: "7301" });
    const { session } = await server.sessions.closeSession({ sessionId });
    expect(session!.status).toBe(SessionStatus.CLOSED);
    clock.advance(TTL_MS * 10);
    await server.core.sessionWatchdog.runOnce();
    expect((await statusOf(server, orderNo)).status).toBe(TrackerStatus.ACTIVE);
    expect(server.paper.ordersFor(orderNo)).toBe(0);
  });

  it("refuses a registration under a session that lapsed, before anything is written", async () => {
    const { sessionId } = await openSession(server);
    clock.advance(TTL_MS);
    const request = { ...validRegisterRequest(), sessionId };
    await expect(server.exits.registerTracker(request)).rejects.toMatchObject({
      code: GrpcStatus.FAILED_PRECONDITION,
      details: expect.stringContaining(`session ${sessionId} lapsed`),
    });
    await expect(server.exits.getTracker({ orderNo: request.orderNo })).rejects.toMatchObject({ code: GrpcStatus.NOT_FOUND });
  });
});

describe("SessionService with bad input", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: QUIET_WATCHDOG });
  });
  afterAll(() => server.close());

  it.each([
    ["a ttl under 1 s", { ttl: durationFromMs(999) }, "ttl must be from 1 s to 24 h"],
    ["a ttl over 24 h", { ttl: durationFromMs(86_400_001) }, "ttl must be from 1 s to 24 h"],
    ["no ttl", { ttl: undefined }, "ttl is required"],
    ["no lapse action", { lapseAction: SessionLapseAction.UNSPECIFIED }, "lapse_action is required"],
    ["an empty session id", { sessionId: "" }, "session_id is required"],
    ["a session id with a space", { sessionId: "has space" }, "session_id may only contain"],
  ])("refuses OpenSession with %s, naming the field", async (_what, change, message) => {
    const request = { sessionId: uniqueOrderNo("S"), ttl: durationFromMs(TTL_MS), lapseAction: SessionLapseAction.EXIT_ALL, ...change };
    await expect(server.sessions.openSession(request)).rejects.toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
      details: expect.stringContaining(message),
    });
  });

  it("answers NOT_FOUND for a registration or heartbeat under an unknown session", async () => {
    await expect(server.exits.registerTracker({ ...validRegisterRequest(), sessionId: "no-such-session" })).rejects.toMatchObject({
      code: GrpcStatus.NOT_FOUND,
      details: "no session no-such-session",
    });
    await expect(server.sessions.heartbeat({ sessionId: "no-such-session" })).rejects.toMatchObject({ code: GrpcStatus.NOT_FOUND });
  });

  it.each([
    ["TIGHTEN without a fallback plan", { lapseAction: SessionLapseAction.TIGHTEN }, "fallback_plan is required"],
    [
      "EXIT_ALL with a fallback plan",
      { fallbackPlan: { stopLoss: { level: { case: "points" as const, value: "1" } } } },
      "fallback_plan is only for SESSION_LAPSE_ACTION_TIGHTEN",
    ],
    [
      "a fallback stop loss at a price",
      { lapseAction: SessionLapseAction.TIGHTEN, fallbackPlan: { stopLoss: { level: { case: "price" as const, value: "99" } } } },
      "fallback_plan.stop_loss is a price",
    ],
    [
      "a fallback stop loss of 100 %",
      { lapseAction: SessionLapseAction.TIGHTEN, fallbackPlan: { stopLoss: { level: { case: "percent" as const, value: "100" } } } },
      "fallback_plan.stop_loss",
    ],
  ])("refuses OpenSession with %s, naming the field", async (_what, change, message) => {
    const request = { sessionId: uniqueOrderNo("S"), ttl: durationFromMs(TTL_MS), lapseAction: SessionLapseAction.EXIT_ALL, ...change };
    await expect(server.sessions.openSession(request)).rejects.toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
      details: expect.stringContaining(message),
    });
  });

  it("answers the open session again for the same OpenSession, and refuses another ttl", async () => {
    const first = await openSession(server, "same-session");
    const again = await server.sessions.openSession({
      sessionId: "same-session",
      ttl: durationFromMs(TTL_MS),
      lapseAction: SessionLapseAction.EXIT_ALL,
    });
    expect(again.created).toBe(false);
    expect(again.session!.openedAt).toEqual(first.openedAt);
    await expect(
      server.sessions.openSession({ sessionId: "same-session", ttl: durationFromMs(TTL_MS * 2), lapseAction: SessionLapseAction.EXIT_ALL }),
    ).rejects.toMatchObject({ code: GrpcStatus.FAILED_PRECONDITION });
  });
});
