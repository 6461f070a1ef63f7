/**
 * The simulator's orders and how each one lives: a script of timed states,
 * fixed when the order is accepted (TRANSIT → PENDING → TRADED, a rejection
 * after acceptance, a partial fill then a cancellation, …). An order's state
 * is a function of the simulator's clock, so a test that moves the clock sees
 * exactly the states it moved past, and never waits for a timer.
 */

/** What happens to an accepted order. */
export type OrderOutcome =
  /** TRANSIT, PENDING after `pendingAfterMs`, TRADED `tradedAfterMs` later. */
  | "fill"
  /** TRADED at once: the answer to the POST says so. */
  | "instant-fill"
  /** TRANSIT, then REJECTED by the exchange or the risk system after `pendingAfterMs`. */
  | "reject"
  /** TRANSIT, PENDING, PART_TRADED (half, rounded down), then CANCELLED by the exchange. */
  | "partial-then-cancel"
  /** TRANSIT, then PENDING for ever. */
  | "pending"
  /**
   * TRANSIT, PENDING, then `status` `tradedAfterMs` later, held there with
   * nothing traded: a state plain orders never reach (a Super Order's
   * TRIGGERED or CLOSED, a Forever order's CONFIRM) or one Dhan never
   * documented, for a client to meet on its look-ups and alerts.
   */
  | { readonly status: string };

export const ORDER_OUTCOMES = ["fill", "instant-fill", "reject", "partial-then-cancel", "pending"] as const;

/** What a plain order goes through; a `{ status }` outcome adds any other. */
export type SimOrderStatus = "TRANSIT" | "PENDING" | "PART_TRADED" | "TRADED" | "REJECTED" | "CANCELLED";

export interface SimStep {
  /** The simulator's clock, epoch ms. */
  readonly atMs: number;
  /** Dhan's status text as the REST API writes it (upper case). */
  readonly status: string;
  readonly tradedQuantity: number;
  readonly reason: string;
}

export interface SimOrderRequest {
  readonly dhanClientId: string;
  readonly correlationId: string;
  readonly transactionType: string;
  readonly exchangeSegment: string;
  readonly productType: string;
  readonly orderType: string;
  readonly validity: string;
  readonly securityId: string;
  readonly quantity: number;
}

export interface SimOrder {
  readonly orderId: string;
  readonly exchangeOrderId: string;
  readonly request: SimOrderRequest;
  readonly createdAtMs: number;
  readonly steps: readonly SimStep[];
  /** The price it trades at, decimal text as the wire writes it. */
  readonly fillPrice: string;
  /** Steps already pushed over the order update feed. */
  pushed: number;
}

export interface LifecycleDelays {
  readonly pendingAfterMs: number;
  readonly tradedAfterMs: number;
}

export function stepsOf(outcome: OrderOutcome, quantity: number, atMs: number, delays: LifecycleDelays): SimStep[] {
  const pendingAt = atMs + delays.pendingAfterMs;
  const tradedAt = pendingAt + delays.tradedAfterMs;
  const step = (at: number, status: string, tradedQuantity = 0, reason = ""): SimStep => ({
    atMs: at,
    status,
    tradedQuantity,
    reason,
  });
  if (typeof outcome === "object") return [step(atMs, "TRANSIT"), step(pendingAt, "PENDING"), step(tradedAt, outcome.status)];
  switch (outcome) {
    case "fill":
      return [step(atMs, "TRANSIT"), step(pendingAt, "PENDING"), step(tradedAt, "TRADED", quantity, "TRADE CONFIRMED")];
    case "instant-fill":
      return [step(atMs, "TRADED", quantity, "TRADE CONFIRMED")];
    case "reject":
      return [step(atMs, "TRANSIT"), step(pendingAt, "REJECTED", 0, "RMS:Margin Exceeds")];
    case "partial-then-cancel": {
      const half = Math.floor(quantity / 2);
      return [
        step(atMs, "TRANSIT"),
        step(pendingAt, "PENDING"),
        step(tradedAt, "PART_TRADED", half, "PARTIALLY TRADED"),
        step(tradedAt + delays.tradedAfterMs, "CANCELLED", half, "CANCELLED BY EXCHANGE: IOC remainder"),
      ];
    }
    case "pending":
      return [step(atMs, "TRANSIT"), step(pendingAt, "PENDING")];
  }
}

/** The order's step at `nowMs`: the last one reached (the first exists from acceptance on). */
export function stepAt(order: SimOrder, nowMs: number): SimStep {
  let current = order.steps[0]!;
  for (const step of order.steps) if (step.atMs <= nowMs) current = step;
  return current;
}

export class SimOrderBook {
  private readonly byId = new Map<string, SimOrder>();
  private readonly byCorrelationId = new Map<string, SimOrder>();
  private nextId = 1;

  add(request: SimOrderRequest, steps: SimStep[], fillPrice: string, nowMs: number): SimOrder {
    const sequence = this.nextId++;
    const order: SimOrder = {
      orderId: `52${String(sequence).padStart(10, "0")}`,
      exchangeOrderId: `1100000${String(sequence).padStart(9, "0")}`,
      request,
      createdAtMs: nowMs,
      steps,
      fillPrice,
      pushed: 0,
    };
    this.byId.set(order.orderId, order);
    if (request.correlationId) this.byCorrelationId.set(request.correlationId, order);
    return order;
  }

  byOrderId(orderId: string): SimOrder | undefined {
    return this.byId.get(orderId);
  }

  byCorrelation(correlationId: string): SimOrder | undefined {
    return this.byCorrelationId.get(correlationId);
  }

  all(): SimOrder[] {
    return [...this.byId.values()];
  }

  /** Steps reached by `nowMs` and not pushed yet, each with its order, in time order; marks them pushed. */
  takeDue(nowMs: number): { order: SimOrder; step: SimStep }[] {
    const due: { order: SimOrder; step: SimStep }[] = [];
    for (const order of this.byId.values()) {
      while (order.pushed < order.steps.length && order.steps[order.pushed]!.atMs <= nowMs) {
        due.push({ order, step: order.steps[order.pushed]! });
        order.pushed++;
      }
    }
    return due.sort((a, b) => a.step.atMs - b.step.atMs);
  }
}
