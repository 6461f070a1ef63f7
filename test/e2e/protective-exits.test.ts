/**
 * Protective exits over gRPC, end to end on a real server: a tracker
 * registered with a stop loss and a trailing stop, ticks that move the
 * trail, the tick that reaches it, one order, and the trigger recorded on
 * the tracker and on WatchExits.
 */
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, Segment, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { ExitEventKind } from "../../gen/tradingcore/v1/exit_pb.js";
import { ProtectionRule } from "../../gen/tradingcore/v1/protection_pb.js";
import { uniqueOrderNo } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { until } from "../support/until.js";

const SEGMENT = Segment.NSE_FNO;

describe("protective exits over gRPC", () => {
  let server: TestServer;
  let tickMs = Date.now();
  beforeAll(async () => {
    server = await startTestServer({ config: { ltpStaleAfterMs: 600_000, fillWaitMs: 500, protectionFlushMs: 10 } });
  });
  afterAll(() => server.close());

  async function ticks(securityId: string, ...prices: string[]) {
    for (const ltp of prices) {
      tickMs += 1;
      await server.ticks.publishTicks([{ ticks: [{ instrument: { segment: SEGMENT, securityId }, ltp, time: timestampFromMs(tickMs) }] }]);
    }
  }

  async function register(securityId: string, side: Side, exitPlan: object, entryPrice = "100") {
    const orderNo = uniqueOrderNo("PLAN");
    const answer = await server.exits.registerTracker({
      orderNo,
      segment: SEGMENT,
      securityId,
      symbol: "NIFTY",
      side,
      quantity: "75",
      entryPrice,
      paper: true,
      exitPlan,
    });
    return { orderNo, tracker: answer.tracker! };
  }

  it("moves the trail with the ticks, fires the trailing stop at the first tick that reaches it, and sends one order", async () => {
    const securityId = "7001";
    const { orderNo, tracker } = await register(securityId, Side.LONG, {
      stopLoss: { level: { case: "points", value: "5" } },
      trailingStop: { distance: { distance: { case: "points", value: "2" } } },
    });
    expect(tracker.exitPlan?.version).toBe(1n);
    expect(tracker.exitPlan?.stopLoss?.level).toEqual({ case: "points", value: "5" });
    const watch = server.exits.watchExits({ orderNo });
    const events: { kind: ExitEventKind; rule: ProtectionRule | undefined; level: string | undefined }[] = [];
    const watching = (async () => {
      for await (const { event } of watch) {
        events.push({ kind: event!.kind, rule: event!.trigger?.rule, level: event!.trigger?.level });
        if (event!.kind === ExitEventKind.EXITED) return;
      }
    })();

    await ticks(securityId, "100", "103", "106.5", "105");
    const moved = await until(
      () => server.exits.getTracker({ orderNo }),
      (answer) => answer.tracker?.protection?.trailLevel === "104.5",
      "the trail at 104.5",
    );
    expect(moved.tracker?.protection).toMatchObject({ trailHighWater: "106.5", trailArmed: true, planVersion: 1n });
    expect(server.paper.ordersFor(orderNo)).toBe(0);

    await ticks(securityId, "104.5", "104", "103");
    const exited = await until(
      () => server.exits.getTracker({ orderNo }),
      (answer) => answer.tracker?.status === TrackerStatus.EXITED,
      "the tracker EXITED",
    );
    expect(exited.tracker?.exitReasonCode).toBe(ExitReasonCode.TRAILING_STOP);
    expect(exited.tracker?.trigger).toMatchObject({
      rule: ProtectionRule.TRAILING_STOP,
      level: "104.5",
      tickPrice: "104.5",
      planVersion: 1n,
    });
    await watching;
    expect(events[0]).toEqual({ kind: ExitEventKind.TRIGGERED, rule: ProtectionRule.TRAILING_STOP, level: "104.5" });
    expect(events.filter((event) => event.kind === ExitEventKind.TRIGGERED)).toHaveLength(1);
    expect(server.paper.ordersFor(orderNo)).toBe(1);
  });

  it("fires a SHORT's stop loss already crossed at registration on the next tick, not before", async () => {
    const securityId = "7002";
    await ticks(securityId, "120");
    const { orderNo } = await register(securityId, Side.SHORT, { stopLoss: { level: { case: "price", value: "110" } } });
    expect((await server.exits.getTracker({ orderNo })).tracker?.status).toBe(TrackerStatus.ACTIVE);
    await ticks(securityId, "121");
    const exited = await until(
      () => server.exits.getTracker({ orderNo }),
      (answer) => answer.tracker?.status === TrackerStatus.EXITED,
      "the tracker EXITED",
    );
    expect(exited.tracker?.exitReasonCode).toBe(ExitReasonCode.STOP_LOSS);
    expect(server.paper.ordersFor(orderNo)).toBe(1);
  });

  it("ignores a tick older than the last one of its instrument", async () => {
    const securityId = "7003";
    const { orderNo } = await register(securityId, Side.LONG, { stopLoss: { level: { case: "price", value: "95" } } });
    await ticks(securityId, "100");
    const late = tickMs - 1;
    await server.ticks.publishTicks([
      { ticks: [{ instrument: { segment: SEGMENT, securityId }, ltp: "90", time: timestampFromMs(late) }] },
    ]);
    await ticks(securityId, "99");
    expect((await server.exits.getTracker({ orderNo })).tracker?.status).toBe(TrackerStatus.ACTIVE);
    expect(server.paper.ordersFor(orderNo)).toBe(0);
  });

  it("replaces a plan at the expected version, refuses a stale version, and protects with the new plan only", async () => {
    const securityId = "7004";
    const { orderNo, tracker } = await register(securityId, Side.LONG, { stopLoss: { level: { case: "price", value: "90" } } });
    const changed = await server.exits.updateExitPlan({
      orderNo,
      expectedVersion: tracker.version,
      exitPlan: { takeProfit: { level: { case: "percent", value: "10" } } },
    });
    expect(changed.tracker?.exitPlan?.version).toBe(tracker.version + 1n);
    await expect(
      server.exits.updateExitPlan({
        orderNo,
        expectedVersion: tracker.version,
        exitPlan: { stopLoss: { level: { case: "price", value: "99" } } },
      }),
    ).rejects.toMatchObject({ code: 9, details: expect.stringContaining("expected_version") });
    await ticks(securityId, "89");
    expect(server.paper.ordersFor(orderNo)).toBe(0);
    await ticks(securityId, "110");
    const exited = await until(
      () => server.exits.getTracker({ orderNo }),
      (answer) => answer.tracker?.status === TrackerStatus.EXITED,
      "the tracker EXITED",
    );
    expect(exited.tracker?.exitReasonCode).toBe(ExitReasonCode.TAKE_PROFIT);
    await expect(server.exits.updateExitPlan({ orderNo, expectedVersion: exited.tracker!.version })).rejects.toMatchObject({
      code: 9,
      details: expect.stringContaining("EXITED"),
    });
  });

  it("refuses a plan on the wrong side of the entry, naming the field, and registers nothing", async () => {
    const orderNo = uniqueOrderNo("PLAN");
    await expect(
      server.exits.registerTracker({
        orderNo,
        segment: SEGMENT,
        securityId: "7005",
        symbol: "NIFTY",
        side: Side.LONG,
        quantity: "75",
        entryPrice: "100",
        exitPlan: { stopLoss: { level: { case: "price", value: "101" } } },
      }),
    ).rejects.toMatchObject({ code: 3, details: expect.stringContaining("exit_plan.stop_loss.price must be below the entry price 100") });
    await expect(server.exits.getTracker({ orderNo })).rejects.toMatchObject({ code: 5 });
  });
});
