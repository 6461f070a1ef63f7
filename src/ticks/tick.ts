import type { Money } from "../domain/money.js";
import type { PriceSource } from "../../gen/tradingcore/v1/common_pb.js";
import type { InstrumentKey } from "../exit/ports.js";

/** One last-traded-price observation. */
export interface TickRecord {
  readonly segment: InstrumentKey["segment"];
  readonly securityId: string;
  readonly ltp: Money;
  /** Epoch ms of the tick. */
  readonly timeMs: number;
  /**
   * `ltp` as a double, when the source had it cheaply (the wire text): only ever for approximate
   * comparisons with a margin (the protection book's quiet band), never as a price.
   */
  readonly ltpApprox?: number;
}

/** One hop of the LTP chain: a place ticks can be read from. */
export interface TickSource {
  readonly source: PriceSource;
  /** The latest tick, or undefined when unknown. May throw or hang: the resolver bounds it. */
  latest(instrument: InstrumentKey): Promise<TickRecord | undefined>;
  /**
   * Optional synchronous read for sources held in memory: never blocks, never
   * throws. When present the resolver uses it and skips the deadline timer.
   */
  peek?(instrument: InstrumentKey): TickRecord | undefined;
}

/** Where published ticks go. */
export interface TickSink {
  /** Stores the ticks; a tick older than the stored one for its instrument is ignored. */
  write(ticks: readonly TickRecord[]): void;
}

/** Told of each newer tick of an instrument it subscribed to. An object, not a callback: the call finds its state where the object is. */
export interface TickObserver {
  onTick(tick: TickRecord): void;
}

/**
 * Ticks as they are stored, told per instrument: for those that evaluate every tick of the
 * instruments they watch (StreamLtp, the protection book) without looking each one up again.
 */
export interface TickSubscriptions {
  /** Tells `observer` of every newer tick of the instrument until the returned function is called. */
  subscribe(instrument: InstrumentKey, observer: TickObserver): () => void;
  /** Calls `listener` as every write begins, before any of its ticks is stored or told. */
  onWrite(listener: () => void): () => void;
}

/** The cache key of an instrument: `{SEGMENT}:{SECURITY_ID}`. */
export function instrumentKey(segmentName: string, securityId: string): string {
  return `${segmentName}:${securityId}`;
}
