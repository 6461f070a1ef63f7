/**
 * EXITED means filled: what ExecuteExit answers when the broker accepts the
 * order but does not fill it at once, on a manual clock (each poll's sleep
 * moves it; no real time passes).
 */
import { describe, expect, it } from "vitest";
import { ExitStatus, PriceSource, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { ExitEventKind } from "../../../gen/tradingcore/v1/exit_pb.js";
import { Money } from "../../../src/domain/money.js";
import { NO_FAULTS } from "../../../src/router/paper-router.js";
import { drain, exitWorld } from "./exit-world.js";

const FILL_WAIT = { fillWaitMs: 3_000, fillPollIntervalMs: 250 };

describe("ExecuteExit when the paper market fills the order late, within the fill wait", () => {
  it("answers EXITED at the fill price once a look-up finds it traded", async () => {
    const world = exitWorld({ settings: FILL_WAIT, faults: { lateFillRate: 1, lateMs: 1_000 } });
    await world.register("ORD-1", { ltp: "101.5" });
    const started = world.clock.now();
    const outcome = await world.exit("ORD-1");
    expect(outcome).toMatchObject({
      status: ExitStatus.EXITED,
      success: true,
      priceSource: PriceSource.FILL,
      exitPrice: new Money("101.5"),
      referencePrice: new Money("101.5"),
    });
    expect(world.clock.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(world.clock.now() - started).toBeLessThan(3_000);
    expect(await world.tracker("ORD-1")).toMatchObject({ status: TrackerStatus.EXITED, exitedQuantity: new Money("100") });
    expect(world.router.ordersFor("ORD-1")).toBe(1);
  });
});

describe("ExecuteExit when the order is still not filled at the end of the fill wait", () => {
  it("answers AWAITING_FILL, keeps the tracker EXITING with the order id, and sends nothing more", async () => {
    const world = exitWorld({ settings: FILL_WAIT });
    await world.register("ORD-1", { ltp: null });
    const outcome = await world.exit("ORD-1");
    expect(outcome.status).toBe(ExitStatus.AWAITING_FILL);
    expect(outcome.success).toBe(false);
    expect(outcome.priceSource).toBe(PriceSource.NONE);
    const tracker = await world.tracker("ORD-1");
    expect(tracker).toMatchObject({ status: TrackerStatus.EXITING, exitedQuantity: new Money("0") });
    expect(tracker.exitOrderId).toMatch(/^paper-/);
    const again = await world.exit("ORD-1");
    expect(again.status).toBe(ExitStatus.AWAITING_FILL);
    expect(world.router.ordersFor("ORD-1")).toBe(1);
  });

  it("ends the wait before the caller's own deadline", async () => {
    const world = exitWorld({ settings: FILL_WAIT, faults: { lateFillRate: 1, lateMs: 60_000 } });
    await world.register("ORD-1");
    const started = world.clock.now();
    const outcome = await world.engine.execute({ orderNo: "ORD-1", reason: "stop", reasonCode: 1, answerByMs: started + 600 });
    expect(outcome.status).toBe(ExitStatus.AWAITING_FILL);
    expect(world.clock.now() - started).toBeLessThanOrEqual(600);
  });

  it("is settled EXITED by the reconciler once the fill comes", async () => {
    const world = exitWorld({ settings: FILL_WAIT, faults: { lateFillRate: 1, lateMs: 10_000 } });
    await world.register("ORD-1", { ltp: "99.5" });
    expect((await world.exit("ORD-1")).status).toBe(ExitStatus.AWAITING_FILL);
    world.clock.advance(10_000);
    const reconciler = world.reconciler({ settings: { graceMs: 0 } });
    const pass = await reconciler.runOnce();
    expect(pass).toMatchObject({ examined: 1, exited: 1 });
    expect(await world.tracker("ORD-1")).toMatchObject({ status: TrackerStatus.EXITED, exitPrice: new Money("99.5"), exitAttempt: 1 });
    expect(world.router.ordersFor("ORD-1")).toBe(1);
  });
});

describe("ExecuteExit when the broker rejects the order after accepting it", () => {
  it("answers ROUTER_REJECTED with the tracker ACTIVE", async () => {
    const world = exitWorld({ settings: FILL_WAIT, faults: { rejectAfterAcceptRate: 1, lateMs: 500 } });
    await world.register("ORD-1");
    const outcome = await world.exit("ORD-1");
    expect(outcome.status).toBe(ExitStatus.ROUTER_REJECTED);
    expect(outcome.tracker).toMatchObject({ status: TrackerStatus.ACTIVE, exitedQuantity: new Money("0") });
  });
});

describe("ExecuteExit when half the order fills and the rest is cancelled", () => {
  it("answers ROUTER_REJECTED with the 50 that traded kept as exited, and the next exit sends only the residual", async () => {
    const world = exitWorld({ settings: FILL_WAIT, faults: { partialFillRate: 1, lateMs: 500 } });
    await world.register("ORD-1", { ltp: "101" });
    const outcome = await world.exit("ORD-1");
    expect(outcome.status).toBe(ExitStatus.ROUTER_REJECTED);
    expect(outcome.tracker).toMatchObject({ status: TrackerStatus.ACTIVE, exitedQuantity: new Money("50"), exitPrice: new Money("101") });
    world.router.faults = NO_FAULTS;
    const retry = await world.exit("ORD-1");
    expect(retry).toMatchObject({ status: ExitStatus.EXITED, exitPrice: new Money("101") });
    expect(retry.tracker).toMatchObject({ exitedQuantity: new Money("100"), exitAttempt: 2 });
    const residual = await world.router.findOrder(retry.tracker!.exitCorrelationId);
    expect(residual?.quantity.toFixed()).toBe("50");
  });
});

describe("Reconciler with an exit order still live past the overdue age", () => {
  it("reports it once (error log, ORDER_OVERDUE event, count) and keeps following it", async () => {
    const world = exitWorld({ settings: FILL_WAIT, faults: { lateFillRate: 1, lateMs: 3_600_000 } });
    await world.register("ORD-1");
    expect((await world.exit("ORD-1")).status).toBe(ExitStatus.AWAITING_FILL);
    const reconciler = world.reconciler({ settings: { graceMs: 0, overdueAfterMs: 60_000 } });
    expect((await reconciler.runOnce()).overdue).toBe(0);
    world.clock.advance(60_000);
    const watch = world.events.watch({ orderNo: "ORD-1" });
    const pass = await reconciler.runOnce();
    expect(pass).toMatchObject({ awaitingFill: 1, overdue: 1 });
    expect((await reconciler.runOnce()).overdue).toBe(0);
    world.events.close();
    expect((await drain(watch, 10)).map((event) => event.kind)).toContain(ExitEventKind.ORDER_OVERDUE);
    expect(world.log.lines.filter((line) => line.level === "error" && /still live/.test(line.message))).toHaveLength(1);
    expect((await world.tracker("ORD-1")).status).toBe(TrackerStatus.EXITING);
    expect(world.router.ordersFor("ORD-1")).toBe(1);
  });
});
