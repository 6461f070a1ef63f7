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
import { PriceSource } from "../../gen/tradingcore/v1/common_pb.js";
import type { InstrumentKey } from "../exit/ports.js";
import type { TickObserver, TickRecord, TickSink, TickSource, TickSubscriptions } from "./tick.js";

/** One instrument: its newest tick (none yet while it is only subscribed to) and who is told of each new one. */
interface CachedInstrument {
  tick: TickRecord | undefined;
  /**
   * The one observer to tell (its only subscriber, or a fan-out over several): one object for a tick
   * to reach, not an array and then the observer. Replaced on every change, never changed in place.
   */
  observer: TickObserver | undefined;
  subscribers: readonly TickObserver[];
}

/** Calls `tell` with each of `all` in order, one that throws keeping none after it from its call; answers the first error. */
function tellEach<T>(all: readonly T[], tell: (each: T) => void): { error: unknown } | undefined {
  let failure: { error: unknown } | undefined;
  for (const each of all) {
    try {
      tell(each);
    } catch (error) {
      failure ??= { error };
    }
  }
  return failure;
}

/** Several observers of one instrument, told in order as one: one that throws keeps none after it from being told. */
class TickFanOut implements TickObserver {
  constructor(private readonly observers: readonly TickObserver[]) {}

  onTick(tick: TickRecord): void {
    const failure = tellEach(this.observers, (observer) => observer.onTick(tick));
    if (failure) throw failure.error;
  }
}

function observerOf(subscribers: readonly TickObserver[]): TickObserver | undefined {
  if (subscribers.length <= 1) return subscribers[0];
  return new TickFanOut(subscribers);
}

const NO_SUBSCRIBERS: readonly TickObserver[] = [];

export class MemoryTickCache implements TickSource, TickSink, TickSubscriptions {
  readonly source = PriceSource.MEMORY;
  /**
   * By segment, then security id: two map look-ups and no key string built
   * per tick (ingest writes hundreds of thousands a second). The entry found
   * also holds the instrument's subscribers, so that telling them costs no
   * look-up of theirs.
   */
  private readonly instruments = new Map<number, Map<string, CachedInstrument>>();
  private count = 0;
  private writing: readonly (() => void)[] = [];

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
    return this.instruments.get(instrument.segment)?.get(instrument.securityId)?.tick;
  }

  /**
   * Tells the `onWrite` listeners, then stores each tick newer than the one held and tells the
   * instrument's observers. One that throws keeps no tick from being stored and no other from
   * being told: the first error is thrown once all of them were.
   */
  write(ticks: readonly TickRecord[]): void {
    let failure = tellEach(this.writing, (listener) => listener());
    for (const tick of ticks) {
      const segment = this.segmentOf(tick.segment);
      let entry = segment.get(tick.securityId);
      if (entry?.tick !== undefined) {
        if (entry.tick.timeMs > tick.timeMs) continue;
        entry.tick = tick;
      } else {
        if (this.count >= this.maxInstruments) continue;
        this.count++;
        if (entry) entry.tick = tick;
        else segment.set(tick.securityId, (entry = { tick, observer: undefined, subscribers: NO_SUBSCRIBERS }));
      }
      const observer = entry.observer;
      if (observer === undefined) continue;
      try {
        observer.onTick(tick);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }

  /** Tells `observer` of every newer tick of the instrument until the returned function is called. */
  subscribe(instrument: InstrumentKey, observer: TickObserver): () => void {
    const segment = this.segmentOf(instrument.segment);
    let entry = segment.get(instrument.securityId);
    if (!entry) segment.set(instrument.securityId, (entry = { tick: undefined, observer: undefined, subscribers: NO_SUBSCRIBERS }));
    const held = entry;
    held.subscribers = [...held.subscribers, observer];
    held.observer = observerOf(held.subscribers);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      const at = held.subscribers.indexOf(observer);
      if (at >= 0) held.subscribers = held.subscribers.filter((_, index) => index !== at);
      held.observer = observerOf(held.subscribers);
      // An instrument only subscribed to, never ticked, is let go of with its last subscriber.
      if (held.tick === undefined && held.subscribers.length === 0 && segment.get(instrument.securityId) === held) {
        segment.delete(instrument.securityId);
      }
    };
  }

  /** Calls `listener` as every write begins, before any of its ticks is stored or told. */
  onWrite(listener: () => void): () => void {
    this.writing = [...this.writing, listener];
    return () => {
      this.writing = this.writing.filter((each) => each !== listener);
    };
  }

  get size(): number {
    return this.count;
  }

  private segmentOf(segment: number): Map<string, CachedInstrument> {
    let instruments = this.instruments.get(segment);
    if (!instruments) this.instruments.set(segment, (instruments = new Map()));
    return instruments;
  }
}
