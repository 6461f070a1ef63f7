/**
 * The audit trail of the embedded default: this process's events, in memory,
 * bounded by count and age (the oldest dropped first). Sequences are made the
 * way Redis makes stream ids, from the injected clock (never going back), so
 * `from_time` and the query's time range mean the same on both adapters.
 * Appending is synchronous: an event is readable and delivered when
 * `publish` returns.
 */
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { ExitTrail, SequencedExitEvent, TrailRange, TrailRetention } from "../exit/exit-trail.js";
import type { ExitEventRecord } from "../exit/ports.js";
import { trailSequence } from "../exit/trail-sequence.js";

export class MemoryExitTrail implements ExitTrail {
  private readonly events: SequencedExitEvent[] = [];
  /** Index of the oldest kept event in `events`; the array is compacted when half of it is dropped. */
  private head = 0;
  private trimmed = 0n;
  private lastMs = 0;
  private rank = 0;
  private follower: ((event: SequencedExitEvent) => void) | undefined;

  constructor(
    private readonly now: () => number,
    private readonly retention: TrailRetention,
    private readonly process: string,
  ) {
    if (!Number.isInteger(retention.maxEvents) || retention.maxEvents < 1) {
      throw new TradingCoreError("invalid-argument", `trail retention must be a count >= 1, got ${retention.maxEvents}`);
    }
  }

  publish(event: ExitEventRecord): void {
    const now = this.now();
    if (now > this.lastMs) {
      this.lastMs = now;
      this.rank = 0;
    } else this.rank++;
    const sequenced: SequencedExitEvent = { ...event, sequence: trailSequence(this.lastMs, this.rank), process: this.process };
    this.events.push(sequenced);
    this.trim(now);
    this.follower?.(sequenced);
  }

  async read(range: TrailRange, limit: number): Promise<SequencedExitEvent[]> {
    const start = this.firstAfter(range.after ?? -1n);
    const page: SequencedExitEvent[] = [];
    for (let i = start; i < this.events.length && page.length < limit; i++) {
      const event = this.events[i]!;
      if (range.before !== undefined && event.sequence >= range.before) break;
      page.push(event);
    }
    return page;
  }

  async trimmedThrough(): Promise<bigint> {
    return this.trimmed;
  }

  follow(deliver: (event: SequencedExitEvent) => void): void {
    this.follower = deliver;
  }

  async flush(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.follower = undefined;
  }

  /** Events kept now. */
  get size(): number {
    return this.events.length - this.head;
  }

  private trim(now: number): void {
    const { maxEvents, maxAgeMs } = this.retention;
    const oldestKept = maxAgeMs > 0 ? trailSequence(Math.max(0, now - maxAgeMs), 0) : 0n;
    while (this.head < this.events.length) {
      const oldest = this.events[this.head]!;
      const overCount = this.size > maxEvents;
      if (!overCount && oldest.sequence >= oldestKept) break;
      this.trimmed = oldest.sequence;
      this.events[this.head++] = undefined as never;
    }
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.events.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Index of the first kept event with a sequence above `after` (binary search: sequences rise). */
  private firstAfter(after: bigint): number {
    let low = this.head;
    let high = this.events.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.events[middle]!.sequence > after) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}
