/**
 * The in-memory tick cache: the first hop of the LTP chain and the fan-out
 * point for StreamLtp. Keeps the newest tick per instrument; an older tick
 * arriving late never replaces a newer one.
 *
 * Bounded: it holds at most `maxInstruments` instruments. Past that, ticks of
 * instruments it does not hold yet are refused (`admits` says which), and the
 * prices it holds stay: evicting one would lose the price of an instrument
 * that ticks rarely, perhaps one an open position needs to exit.
 */
import { PriceSource, Segment } from "../../gen/tradingcore/v1/common_pb.js";
import type { InstrumentKey } from "../exit/ports.js";
import { instrumentKey, type TickRecord, type TickSink, type TickSource } from "./tick.js";

export type TickListener = (tick: TickRecord) => void;

export class MemoryTickCache implements TickSource, TickSink {
  readonly source = PriceSource.MEMORY;
  /**
   * Newest tick by segment, then security id: two map look-ups and no key
   * string built per tick (ingest writes hundreds of thousands a second).
   */
  private readonly ticks = new Map<number, Map<string, TickRecord>>();
  private count = 0;
  private readonly listeners = new Map<string, Set<TickListener>>();

  /** `maxInstruments`: the most instruments held (unbounded when absent, for tests and tools). */
  constructor(readonly maxInstruments = Number.POSITIVE_INFINITY) {}

  /** True when a tick of this instrument would be kept: the cache holds it already, or has room for it. */
  admits(instrument: InstrumentKey): boolean {
    return this.count < this.maxInstruments || this.peek(instrument) !== undefined;
  }

  /** How many more instruments the cache can take. */
  get room(): number {
    return Math.max(0, this.maxInstruments - this.count);
  }

  async latest(instrument: InstrumentKey): Promise<TickRecord | undefined> {
    return this.peek(instrument);
  }

  /** Synchronous read, for hot paths that need no await. */
  peek(instrument: InstrumentKey): TickRecord | undefined {
    return this.ticks.get(instrument.segment)?.get(instrument.securityId);
  }

  write(ticks: readonly TickRecord[]): void {
    for (const tick of ticks) {
      let segment = this.ticks.get(tick.segment);
      if (!segment) this.ticks.set(tick.segment, (segment = new Map()));
      const stored = segment.get(tick.securityId);
      if (stored && stored.timeMs > tick.timeMs) continue;
      if (!stored) {
        if (this.count >= this.maxInstruments) continue;
        this.count++;
      }
      segment.set(tick.securityId, tick);
      if (this.listeners.size === 0) continue;
      const listeners = this.listeners.get(keyOf(tick));
      if (listeners) for (const listener of listeners) listener(tick);
    }
  }

  /** Calls `listener` with every newer tick of the instrument until the returned function is called. */
  subscribe(instrument: InstrumentKey, listener: TickListener): () => void {
    const key = keyOf(instrument);
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(key);
    };
  }

  get size(): number {
    return this.count;
  }
}

function keyOf(instrument: InstrumentKey): string {
  return instrumentKey(Segment[instrument.segment] ?? String(instrument.segment), instrument.securityId);
}
