/**
 * The live half of WatchExits: every event the trail delivers, to every
 * watcher that wants it (trail-watch.ts adds the replay before it).
 *
 * Guarantees:
 * - `deliver` and `publish` never block and never throw: they append to each
 *   watcher's buffer and return. Exits never wait for watchers.
 * - A watcher sees events in delivery order (the trail's sequence order),
 *   with no gaps other than events its filter excludes. `publish` numbers an
 *   event itself (1, 2, 3, …): the hub used alone, with no trail before it.
 * - Each watcher's buffer is bounded. A watcher that falls more than
 *   `bufferSize` events behind is dropped at once (it no longer costs
 *   `publish` anything); it still reads what it had buffered, then its
 *   iteration fails with `resource-exhausted`, naming the last sequence it got.
 * - `close()` (shutdown) ends every watch normally after its buffered events.
 */
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { SequencedExitEvent } from "./exit-trail.js";
import type { ExitEventRecord, ExitEventSink } from "./ports.js";

export type { SequencedExitEvent } from "./exit-trail.js";

export interface WatchOptions {
  /** Only events of this tracker; every tracker when absent or empty. */
  readonly orderNo?: string;
  /** Ends the watch (normally) when aborted, e.g. when the client goes away. */
  readonly signal?: AbortSignal;
}

export const DEFAULT_WATCH_BUFFER_SIZE = 1024;

export class ExitEventHub implements ExitEventSink {
  private readonly watchers = new Set<Watcher>();
  private sequence = 0n;
  private closed = false;

  /** `bufferSize`: events a watcher may fall behind before it is dropped. */
  constructor(private readonly bufferSize: number = DEFAULT_WATCH_BUFFER_SIZE) {
    if (!Number.isInteger(bufferSize) || bufferSize < 1) {
      throw new TradingCoreError("invalid-argument", `watch buffer size must be a positive integer, got ${bufferSize}`);
    }
  }

  /** Numbers the event one above the last one delivered, then delivers it. */
  publish(event: ExitEventRecord): void {
    this.deliver({ ...event, sequence: this.sequence + 1n, appendedMs: event.timeMs, process: "" });
  }

  /** Hands a sequenced event (from the trail) to every watcher that wants it. */
  deliver(event: SequencedExitEvent): void {
    this.sequence = event.sequence;
    for (const watcher of this.watchers) {
      if (watcher.orderNo && watcher.orderNo !== event.tracker.orderNo) continue;
      if (!watcher.offer(event)) this.watchers.delete(watcher);
    }
  }

  /** Starts a watch from the next published event. After `close()`, the watch is empty. */
  watch(options: WatchOptions = {}): AsyncIterableIterator<SequencedExitEvent> {
    const watcher = new Watcher(this.bufferSize, options.orderNo ?? "", () => this.watchers.delete(watcher));
    if (this.closed) watcher.end();
    else this.watchers.add(watcher);
    if (options.signal) {
      if (options.signal.aborted) watcher.end();
      else options.signal.addEventListener("abort", () => watcher.end(), { once: true });
    }
    return watcher;
  }

  /** Ends every watch after its buffered events; later watches end at once. */
  close(): void {
    this.closed = true;
    for (const watcher of this.watchers) watcher.end();
    this.watchers.clear();
  }

  /** Watches currently receiving events. */
  get watcherCount(): number {
    return this.watchers.size;
  }

  /** Sequence of the last delivered event; 0n before the first. */
  get lastSequence(): bigint {
    return this.sequence;
  }
}

/** One watch: a bounded queue with one pending reader at most. */
class Watcher implements AsyncIterableIterator<SequencedExitEvent> {
  private readonly buffer: SequencedExitEvent[] = [];
  private reader: { resolve: (r: IteratorResult<SequencedExitEvent>) => void; reject: (e: unknown) => void } | undefined;
  private ended = false;
  private failure: TradingCoreError | undefined;
  private lastDelivered = 0n;

  constructor(
    private readonly capacity: number,
    readonly orderNo: string,
    private readonly detach: () => void,
  ) {}

  /** False when the watcher fell behind and was dropped. */
  offer(event: SequencedExitEvent): boolean {
    if (this.ended) return false;
    if (this.reader) {
      const reader = this.reader;
      this.reader = undefined;
      this.lastDelivered = event.sequence;
      reader.resolve({ value: event, done: false });
      return true;
    }
    if (this.buffer.length >= this.capacity) {
      const last = this.buffer[this.buffer.length - 1]?.sequence ?? this.lastDelivered;
      this.failure = new TradingCoreError(
        "resource-exhausted",
        `exit watcher fell more than ${this.capacity} events behind and was dropped after event ${last}`,
      );
      this.ended = true;
      return false;
    }
    this.buffer.push(event);
    return true;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.detach();
    this.settleReader();
  }

  next(): Promise<IteratorResult<SequencedExitEvent>> {
    const event = this.buffer.shift();
    if (event) {
      this.lastDelivered = event.sequence;
      return Promise.resolve({ value: event, done: false });
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    if (this.reader) return Promise.reject(new TradingCoreError("internal", "an exit watch allows one pending read at a time"));
    return new Promise((resolve, reject) => (this.reader = { resolve, reject }));
  }

  return(): Promise<IteratorResult<SequencedExitEvent>> {
    this.buffer.length = 0;
    this.failure = undefined;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<SequencedExitEvent> {
    return this;
  }

  private settleReader(): void {
    const reader = this.reader;
    if (!reader) return;
    this.reader = undefined;
    if (this.failure) reader.reject(this.failure);
    else reader.resolve({ value: undefined, done: true });
  }
}

/** A sink that publishes every event to `first` (the trail), then to `other` (a caller's own sink). */
export function fanOutEvents(first: ExitEventSink, other: ExitEventSink): ExitEventSink {
  return {
    publish(event) {
      first.publish(event);
      other.publish(event);
    },
  };
}
