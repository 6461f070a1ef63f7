import { describe, expect, it } from "vitest";
import { ExitStatus, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus, ExitEventKind } from "../../../gen/tradingcore/v1/exit_pb.js";
import { exitCorrelationId } from "../../../src/domain/exit-correlation-id.js";
import { Money } from "../../../src/domain/money.js";
import type { TrackerRecord } from "../../../src/domain/tracker.js";
import { type OrderUpdate, OrderUpdateHandler, parkedBytesOf } from "../../../src/exit/order-update-handler.js";
import { OrderUpdateSignals } from "../../../src/exit/order-update-signals.js";
import { NO_FAULTS } from "../../../src/router/paper-router.js";
import { drain, type ExitWorld, exitWorld, ManualClock } from "./exit-world.js";

/** Attempt 1 of ORD-1, registered when the world starts. */
const CORRELATION_ID = exitCorrelationId({ orderNo: "ORD-1", createdAt: new ManualClock().now() }, 1);

function update(status: BrokerOrderStatus, tradedQuantity?: string, averagePrice?: string): OrderUpdate {
  return {
    correlationId: CORRELATION_ID,
    orderId: "B-1",
    status,
    ...(tradedQuantity === undefined ? {} : { tradedQuantity: new Money(tradedQuantity) }),
    ...(averagePrice === undefined ? {} : { averagePrice: new Money(averagePrice) }),
    updateTimeMs: Date.parse("2025-01-02T09:16:00Z"),
  };
}

function handlerOf(world: ExitWorld, refused: string[] = []) {
  return new OrderUpdateHandler(world.store, world.clock, world.events, { log: world.log, onRefused: (orderNo) => refused.push(orderNo) });
}

/** ORD-1 (quantity 100) EXITING: its order was placed, the reply lost. */
async function exitingWorld() {
  const world = exitWorld();
  await world.register("ORD-1", { quantity: "100", ltp: "100.5" });
  world.router.faults = { ...NO_FAULTS, lostReplyRate: 1 };
  await world.exit("ORD-1");
  world.router.faults = NO_FAULTS;
  return world;
}

/** ORD-1 EXITED by the engine: the paper market filled its order at once at the LTP, 100.5. */
async function exitedWorld() {
  const world = exitWorld();
  await world.register("ORD-1", { quantity: "100", ltp: "100.5" });
  expect((await world.exit("ORD-1")).status).toBe(ExitStatus.EXITED);
  return world;
}

/** The tracker fields an order update decides (version and updatedAt count writes, not outcomes). */
function outcomeOf(tracker: TrackerRecord) {
  return {
    status: TrackerStatus[tracker.status],
    exitedQuantity: tracker.exitedQuantity.toFixed(),
    exitPrice: tracker.exitPrice?.toFixed(),
    priorExitedQuantity: tracker.priorExitedQuantity.toFixed(),
    exitOrderId: tracker.exitOrderId,
    exitedAt: tracker.exitedAt,
  };
}

describe("OrderUpdateHandler with a TRADED update for an EXITING tracker", () => {
  it("marks the tracker EXITED with the fill price and the broker's order id", async () => {
    const world = await exitingWorld();
    const result = await handlerOf(world).apply(update(BrokerOrderStatus.TRADED, "100", "100.45"));
    expect(result.applied).toBe(true);
    expect(outcomeOf(await world.tracker("ORD-1"))).toMatchObject({
      status: "EXITED",
      exitedQuantity: "100",
      exitPrice: "100.45",
      exitOrderId: "B-1",
    });
  });

  it("takes a TRADED that reports less than the attempt's quantity as progress, never EXITED", async () => {
    const world = await exitingWorld();
    const result = await handlerOf(world).apply(update(BrokerOrderStatus.TRADED, "40", "100.45"));
    expect(result.applied).toBe(true);
    expect(outcomeOf(await world.tracker("ORD-1"))).toMatchObject({ status: "EXITING", exitedQuantity: "40" });
  });

  it("applies nothing from an update for one slice of a sliced exit, and wakes the exit waiting on the attempt", async () => {
    const world = await exitingWorld();
    const signals = new OrderUpdateSignals();
    const woken: string[] = [];
    signals.on(CORRELATION_ID, () => woken.push(CORRELATION_ID));
    const handler = new OrderUpdateHandler(world.store, world.clock, world.events, { log: world.log, signals });
    const before = await world.tracker("ORD-1");
    const result = await handler.apply({ ...update(BrokerOrderStatus.TRADED, "100", "100.45"), correlationId: `${CORRELATION_ID}s1` });
    expect(result).toMatchObject({ applied: false, message: expect.stringContaining("looked up as a whole") });
    expect(result.parked).toBeUndefined();
    expect(await world.tracker("ORD-1")).toEqual(before);
    expect(woken).toEqual([CORRELATION_ID]);
  });

  it("changes nothing when the same update comes again", async () => {
    const world = await exitingWorld();
    const handler = handlerOf(world);
    await handler.apply(update(BrokerOrderStatus.TRADED, "100", "100.45"));
    const before = await world.tracker("ORD-1");
    const again = await handler.apply(update(BrokerOrderStatus.TRADED, "100", "100.45"));
    expect(again.applied).toBe(false);
    expect(await world.tracker("ORD-1")).toEqual(before);
  });
});

describe("OrderUpdateHandler with partial fills", () => {
  it("accumulates exited_quantity at the order's average price", async () => {
    const world = await exitingWorld();
    const handler = handlerOf(world);
    await handler.apply(update(BrokerOrderStatus.PART_TRADED, "40", "101"));
    await handler.apply(update(BrokerOrderStatus.PART_TRADED, "70", "101.3"));
    expect(outcomeOf(await world.tracker("ORD-1"))).toMatchObject({ status: "EXITING", exitedQuantity: "70", exitPrice: "101.3" });
  });

  it("publishes a FILL event per partial fill, then EXITED", async () => {
    const world = await exitingWorld();
    const watch = world.events.watch({ orderNo: "ORD-1" });
    const handler = handlerOf(world);
    await handler.apply(update(BrokerOrderStatus.PART_TRADED, "40", "101"));
    await handler.apply(update(BrokerOrderStatus.TRADED, "100", "101.2"));
    world.events.close();
    expect((await drain(watch, 10)).map((e) => e.kind)).toEqual([ExitEventKind.FILL, ExitEventKind.EXITED]);
  });

  it("ignores an older PART_TRADED after TRADED", async () => {
    const world = await exitingWorld();
    const handler = handlerOf(world);
    await handler.apply(update(BrokerOrderStatus.TRADED, "100", "101.2"));
    const late = await handler.apply(update(BrokerOrderStatus.PART_TRADED, "40", "101"));
    expect(late.applied).toBe(false);
    expect(outcomeOf(await world.tracker("ORD-1"))).toMatchObject({ status: "EXITED", exitedQuantity: "100", exitPrice: "101.2" });
  });

  it("refuses a traded quantity larger than the position, and writes nothing", async () => {
    const world = await exitingWorld();
    const before = await world.tracker("ORD-1");
    const result = await handlerOf(world).apply(update(BrokerOrderStatus.PART_TRADED, "150", "101"));
    expect(result).toMatchObject({ applied: false });
    expect(result.message).toMatch(/^refused/);
    expect(await world.tracker("ORD-1")).toEqual(before);
    expect(world.log.lines.some((l) => l.level === "error")).toBe(true);
  });
});

describe("OrderUpdateHandler when the rest of a partly filled order is cancelled", () => {
  it("sends the tracker back to ACTIVE with the traded 40 kept as exited", async () => {
    const world = await exitingWorld();
    const refused: string[] = [];
    const handler = handlerOf(world, refused);
    await handler.apply(update(BrokerOrderStatus.PART_TRADED, "40", "101"));
    await handler.apply(update(BrokerOrderStatus.CANCELLED, "40", "101"));
    expect(outcomeOf(await world.tracker("ORD-1"))).toMatchObject({
      status: "ACTIVE",
      exitedQuantity: "40",
      priorExitedQuantity: "40",
      exitPrice: "101",
    });
    expect(refused).toEqual(["ORD-1"]);
  });

  it("has the reconciler exit only the residual 60, to EXITED at the average of both fills", async () => {
    const world = await exitingWorld();
    const reconciler = world.reconciler();
    const handler = new OrderUpdateHandler(world.store, world.clock, world.events, { onRefused: (orderNo) => reconciler.owe(orderNo) });
    await handler.apply(update(BrokerOrderStatus.CANCELLED, "40", "101"));
    expect(outcomeOf(await world.tracker("ORD-1"))).toMatchObject({ status: "ACTIVE", exitedQuantity: "40" });
    await reconciler.runOnce();
    const residual = await world.router.findOrder(exitCorrelationId(await world.tracker("ORD-1"), 2));
    expect(residual?.quantity.toFixed()).toBe("60");
    // 40 × 101 + 60 × 100.5 over 100
    expect(outcomeOf(await world.tracker("ORD-1"))).toMatchObject({ status: "EXITED", exitedQuantity: "100", exitPrice: "100.7" });
  });
});

describe("OrderUpdateHandler when a refusal is reported for a tracker EXITED on its fill", () => {
  it("keeps it EXITED, writes nothing and reports the contradiction as an error", async () => {
    const world = await exitedWorld();
    const before = await world.tracker("ORD-1");
    const refused: string[] = [];
    const result = await handlerOf(world, refused).apply(update(BrokerOrderStatus.CANCELLED, "40", "101"));
    expect(result).toMatchObject({ applied: false });
    expect(result.message).toMatch(/^refused: CANCELLED after 40 traded contradicts the fill/);
    expect(await world.tracker("ORD-1")).toEqual(before);
    expect(refused).toEqual([]);
    expect(world.log.lines.some((l) => l.level === "error")).toBe(true);
  });
});

/** Every distinct arrival order of `items`. */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  const seen = new Set<string>();
  const result: T[][] = [];
  items.forEach((item, i) => {
    for (const rest of permutations([...items.slice(0, i), ...items.slice(i + 1)])) {
      const order = [item, ...rest];
      const key = JSON.stringify(order);
      if (!seen.has(key)) seen.add(key), result.push(order);
    }
  });
  return result;
}

type Step = [BrokerOrderStatus, string, string];

async function finalTrackerAfter(start: () => Promise<ExitWorld>, steps: Step[]) {
  const world = await start();
  const handler = handlerOf(world);
  for (const [status, traded, price] of steps) await handler.apply(update(status, traded, price));
  return outcomeOf(await world.tracker("ORD-1"));
}

describe.each([
  { name: "an EXITING tracker", start: exitingWorld },
  { name: "a tracker the engine recorded as EXITED", start: exitedWorld },
])("OrderUpdateHandler given the same updates in every order, each twice, for $name", ({ start }) => {
  it("ends EXITED 100 at the fill price after partial fills and TRADED", async () => {
    const updates: Step[] = [
      [BrokerOrderStatus.PART_TRADED, "40", "101"],
      [BrokerOrderStatus.PART_TRADED, "70", "101.2"],
      [BrokerOrderStatus.TRADED, "100", "101.5"],
    ];
    const orders = permutations([...updates, ...updates]);
    expect(orders.length).toBe(90);
    const finals = new Set<string>();
    for (const order of orders) finals.add(JSON.stringify(await finalTrackerAfter(start, order)));
    expect([...finals].map((f) => JSON.parse(f))).toEqual([
      expect.objectContaining({ status: "EXITED", exitedQuantity: "100", exitPrice: "101.5" }),
    ]);
  });
});

describe("OrderUpdateHandler given a partial fill and a cancel of the rest in every order, each twice, for an EXITING tracker", () => {
  it("ends ACTIVE with 40 exited", async () => {
    const updates: Step[] = [
      [BrokerOrderStatus.PART_TRADED, "40", "101"],
      [BrokerOrderStatus.CANCELLED, "40", "101"],
    ];
    const finals = new Set<string>();
    for (const order of permutations([...updates, ...updates])) finals.add(JSON.stringify(await finalTrackerAfter(exitingWorld, order)));
    expect([...finals].map((f) => JSON.parse(f))).toEqual([
      expect.objectContaining({ status: "ACTIVE", exitedQuantity: "40", exitPrice: "101" }),
    ]);
  });
});

describe("OrderUpdateHandler when the update arrives before the router's answer", () => {
  async function withUpdateBeforeReply(status: BrokerOrderStatus, traded: string) {
    const world = exitWorld();
    await world.register("ORD-1", { quantity: "100", ltp: "100.5" });
    const handler = handlerOf(world);
    const place = world.router.placeExitOrder.bind(world.router);
    world.router.placeExitOrder = async (order, signal) => {
      const reply = await place(order, signal);
      await handler.apply({ ...update(status, traded, "100.4"), correlationId: order.correlationId });
      return reply;
    };
    return { world, outcome: await world.exit("ORD-1") };
  }

  it("answers EXITED at the fill price when the update says TRADED", async () => {
    const { world, outcome } = await withUpdateBeforeReply(BrokerOrderStatus.TRADED, "100");
    expect(outcome.status).toBe(ExitStatus.EXITED);
    expect(outcomeOf(await world.tracker("ORD-1"))).toMatchObject({ status: "EXITED", exitPrice: "100.4" });
    expect(world.router.ordersFor("ORD-1")).toBe(1);
  });

  it("answers ROUTER_REJECTED with the tracker ACTIVE when the update says CANCELLED", async () => {
    const { world, outcome } = await withUpdateBeforeReply(BrokerOrderStatus.CANCELLED, "0");
    expect(outcome.status).toBe(ExitStatus.ROUTER_REJECTED);
    expect(outcomeOf(await world.tracker("ORD-1"))).toMatchObject({ status: "ACTIVE", exitedQuantity: "0" });
  });
});

describe("OrderUpdateHandler with a correlation id no tracker has", () => {
  it("keeps the update and says so", async () => {
    const world = exitWorld();
    const handler = handlerOf(world);
    const result = await handler.apply(update(BrokerOrderStatus.TRADED, "100", "100.45"));
    expect(result).toMatchObject({ applied: false, parked: true });
    expect(handler.parkedCount).toBe(1);
    expect(world.log.lines.some((l) => l.level === "warn" && /unknown exit correlation id/.test(l.message))).toBe(true);
  });

  it("applies it on the reconciler's next pass once the tracker appears", async () => {
    const world = exitWorld();
    const handler = handlerOf(world);
    await handler.apply(update(BrokerOrderStatus.TRADED, "100", "100.45"));
    await world.register("ORD-1", { quantity: "100" });
    world.router.faults = { ...NO_FAULTS, lostReplyRate: 1 };
    await world.exit("ORD-1");
    const reconciler = world.reconciler({ parkedUpdates: handler });
    const pass = await reconciler.runOnce();
    expect(pass.parkedApplied).toBe(1);
    expect(handler.parkedCount).toBe(0);
    expect(outcomeOf(await world.tracker("ORD-1"))).toMatchObject({ status: "EXITED", exitPrice: "100.45" });
  });

  it("drops an update whose tracker never appears within the parked TTL, with an error log", async () => {
    const world = exitWorld();
    const handler = new OrderUpdateHandler(world.store, world.clock, world.events, { log: world.log, parkedTtlMs: 60_000 });
    await handler.apply(update(BrokerOrderStatus.TRADED, "100", "100.45"));
    world.clock.advance(59_000);
    await handler.retryParked();
    expect(handler.parkedCount).toBe(1);
    world.clock.advance(2_000);
    await handler.retryParked();
    expect(handler.parkedCount).toBe(0);
    expect(world.log.lines.filter((l) => l.level === "error" && /appeared in time/.test(l.message))).toHaveLength(1);
  });

  it("keeps at most maxParked updates, dropping the oldest with an error log", async () => {
    const world = exitWorld();
    const handler = new OrderUpdateHandler(world.store, world.clock, world.events, { log: world.log, maxParked: 2 });
    for (const id of ["a", "b", "c"]) await handler.apply({ ...update(BrokerOrderStatus.TRADED, "1", "1"), correlationId: id });
    expect(handler.parkedCount).toBe(2);
    expect(world.log.lines.filter((l) => l.level === "error" && /dropped/.test(l.message))).toHaveLength(1);
  });

  it("keeps at most maxParkedBytes of updates, however few they are, dropping the oldest first", async () => {
    const world = exitWorld();
    const big = (id: string): OrderUpdate => ({
      ...update(BrokerOrderStatus.TRADED, "1", "1"),
      correlationId: id.repeat(64),
      orderId: "o".repeat(64),
    });
    const handler = new OrderUpdateHandler(world.store, world.clock, world.events, {
      log: world.log,
      maxParked: 1000,
      maxParkedBytes: parkedBytesOf(big("a")) * 3,
    });
    for (const id of ["a", "b", "c", "d", "e"]) await handler.apply(big(id));
    expect(handler.parkedCount).toBe(3);
    expect(handler.parkedByteCount).toBe(parkedBytesOf(big("a")) * 3);
    expect(
      world.log.lines
        .filter((l) => l.level === "error" && /dropped/.test(l.message))
        .map((l) => (l.fields as { correlationId: string }).correlationId[0]),
    ).toEqual(["a", "b"]);
  });

  it("counts the bytes of updates it applies or drops as freed", async () => {
    const world = exitWorld();
    const handler = new OrderUpdateHandler(world.store, world.clock, world.events, { log: world.log, parkedTtlMs: 60_000 });
    await handler.apply(update(BrokerOrderStatus.TRADED, "100", "100.45"));
    expect(handler.parkedByteCount).toBeGreaterThan(0);
    world.clock.advance(61_000);
    await handler.retryParked();
    expect(handler.parkedByteCount).toBe(0);
  });
});

describe("OrderUpdateHandler with a TRADED update for an attempt already settled as refused", () => {
  it("writes nothing and reports the contradiction as an error", async () => {
    const world = exitWorld();
    await world.register("ORD-1", { quantity: "100", ltp: "100.5" });
    world.router.faults = { ...NO_FAULTS, rejectRate: 1 };
    expect((await world.exit("ORD-1")).status).toBe(ExitStatus.ROUTER_REJECTED);
    const before = await world.tracker("ORD-1");
    const result = await handlerOf(world).apply(update(BrokerOrderStatus.TRADED, "100", "100.45"));
    expect(result.applied).toBe(false);
    expect((await world.tracker("ORD-1")).version).toBe(before.version);
    expect(world.log.lines.filter((l) => l.level === "error" && /order update refused/.test(l.message))).toHaveLength(1);
  });

  it("still ignores a repeat of the refusal quietly", async () => {
    const world = exitWorld();
    await world.register("ORD-1", { quantity: "100", ltp: "100.5" });
    world.router.faults = { ...NO_FAULTS, rejectRate: 1 };
    await world.exit("ORD-1");
    const result = await handlerOf(world).apply(update(BrokerOrderStatus.REJECTED, "0"));
    expect(result.applied).toBe(false);
    expect(world.log.lines.filter((l) => l.level === "error")).toHaveLength(0);
  });
});

describe("OrderUpdateHandler with an update for an earlier exit attempt", () => {
  /** ORD-1's first exit was refused by the broker; its second is EXITING (placed, reply lost). */
  async function secondAttemptWorld() {
    const world = exitWorld();
    await world.register("ORD-1", { quantity: "100", ltp: "100.5" });
    world.router.faults = { ...NO_FAULTS, rejectRate: 1 };
    expect((await world.exit("ORD-1")).status).toBe(ExitStatus.ROUTER_REJECTED);
    world.router.faults = { ...NO_FAULTS, lostReplyRate: 1 };
    await world.exit("ORD-1");
    world.router.faults = NO_FAULTS;
    const tracker = await world.tracker("ORD-1");
    expect(tracker).toMatchObject({ status: TrackerStatus.EXITING, exitAttempt: 2 });
    return { world, tracker };
  }

  it("answers at once without parking it, and changes nothing", async () => {
    const { world, tracker } = await secondAttemptWorld();
    const handler = handlerOf(world);
    const result = await handler.apply(update(BrokerOrderStatus.REJECTED, "0"));
    expect(result).toMatchObject({ applied: false });
    expect(result.parked).toBeUndefined();
    expect(result.message).toContain("earlier exit attempt of ORD-1");
    expect(handler.parkedCount).toBe(0);
    expect(await world.tracker("ORD-1")).toEqual(tracker);
    expect(world.log.lines.filter((l) => l.level === "error")).toHaveLength(0);
  });

  it("reports a fill on the earlier attempt as an error at once: the position may have been exited twice", async () => {
    const { world, tracker } = await secondAttemptWorld();
    const handler = handlerOf(world);
    const result = await handler.apply(update(BrokerOrderStatus.TRADED, "100", "100.45"));
    expect(result.applied).toBe(false);
    expect(result.message).toContain("100 traded");
    expect(handler.parkedCount).toBe(0);
    expect(await world.tracker("ORD-1")).toEqual(tracker);
    const errors = world.log.lines.filter((l) => l.level === "error" && /earlier exit attempt/.test(l.message));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.fields).toMatchObject({ orderNo: "ORD-1", correlationId: CORRELATION_ID, tradedQuantity: "100" });
  });
});
