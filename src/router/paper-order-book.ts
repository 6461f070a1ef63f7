import type { Segment } from "../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus } from "../../gen/tradingcore/v1/exit_pb.js";
import type { Money } from "../domain/money.js";
import type { BrokerOrder } from "../exit/ports.js";

/**
 * What the paper market does to a live order later: fill it (a late fill,
 * or a fill at the next tick), reject it after it was accepted, or cancel
 * the rest after a partial fill.
 */
export type PaperFate = "fill" | "reject" | "cancel-rest";

/** A paper order as the book keeps it: the broker's view plus what the paper market needs. */
export interface PaperOrder extends BrokerOrder {
  readonly orderNo: string;
  readonly segment: Segment;
  readonly securityId: string;
  /** Epoch ms it was placed. */
  readonly placedAtMs: number;
  /** What happens at `settleAtMs`; absent for an order that only waits for a tick. */
  readonly fate?: PaperFate;
  readonly settleAtMs?: number;
  /** The price a late fill uses (the reference LTP it was sent with); absent: the next tick's. */
  readonly fillPrice?: Money;
}

/** An order that fills at the next tick of its instrument: live, with no other fate. */
export function waitsForTick(order: PaperOrder): boolean {
  return isLiveOrder(order.status) && order.fate === undefined;
}

/** Still working at the broker: may trade or be refused later. */
export function isLiveOrder(status: BrokerOrderStatus): boolean {
  return status === BrokerOrderStatus.TRANSIT || status === BrokerOrderStatus.PENDING || status === BrokerOrderStatus.PART_TRADED;
}

/**
 * Where the paper router keeps its orders: in memory, or in Redis shared by
 * every process of a deployment, so any process finds an order another
 * placed (resume, reconciler), any process's tick fills it, and accepted
 * orders are counted per tracker across all of them (how "exactly one order
 * per exit" is checked).
 */
export interface PaperOrderBook {
  /** Stores a placed order under a fresh order id unique across processes; answers that id. */
  record(order: Omit<PaperOrder, "orderId">, accepted: boolean): Promise<string>;
  find(correlationId: string): Promise<PaperOrder | undefined>;
  /**
   * Replaces a live order with `next` (same correlation id), atomically and
   * only while the stored one is still live: answers false when another
   * process settled it first, so every order is settled once.
   */
  settle(next: PaperOrder): Promise<boolean>;
  /** Correlation ids of live orders of an instrument that wait for its next tick. */
  waitingForTick(segment: Segment, securityId: string): Promise<string[]>;
  /** Instruments (`instrumentKey`) with orders waiting for a tick: cheap, so every tick batch can ask. */
  waitingInstruments(): Promise<ReadonlySet<string>>;
  /** Accepted (not rejected) orders placed for one tracker, by every process. */
  acceptedFor(orderNo: string): Promise<number>;
}
