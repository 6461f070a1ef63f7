/**
 * The audit trail of the embedded default: this process's events, in memory,
 * bounded by count and age (the oldest dropped first), numbered 1, 2, 3, …
 * with append times from the injected clock that never go back. Appending is
 * synchronous: an event is readable and delivered when `publish` returns.
 */
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { ExitTrail, SequencedExitEvent, TrailRange, TrailRetention } from "../exit/exit-trail.js";
import type { ExitEventRecord } from "../exit/ports.js";

export class MemoryExitTrail implements ExitTrail {
  private readonly events: SequencedExitEvent[] = [];
  /** Index of the oldest kept event in `events`; the array is compacted when half of it is dropped. */
  private head = 0;
  private sequence = 0n;
  private lastMs = 0;
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
    this.lastMs = Math.max(this.lastMs, now);
    const sequenced: SequencedExitEvent = { ...event, sequence: ++this.sequence, appendedMs: this.lastMs, process: this.process };
    this.events.push(sequenced);
    this.trim(now);
    this.follower?.(sequenced);
  }

  async read(range: TrailRange, limit: number): Promise<SequencedExitEvent[]> {
    const first = this.oldestKept;
    const from = range.after === undefined || range.after < first ? first : range.after + 1n;
    const end = range.before === undefined || range.before > this.sequence + 1n ? this.sequence + 1n : range.before;
    const page: SequencedExitEvent[] = [];
    for (let sequence = from; sequence < end && page.length < limit; sequence++) page.push(this.at(sequence));
    return page;
  }

  async trimmedThrough(): Promise<bigint> {
    return this.oldestKept - 1n;
  }

  async sequenceBefore(ms: number): Promise<bigint | undefined> {
    let low = this.oldestKept;
    let high = this.sequence + 1n;
    if (low < high && this.at(low).appendedMs >= ms) return low > 1n ? undefined : 0n;
    while (low < high) {
      const middle = (low + high) / 2n;
      if (this.at(middle).appendedMs < ms) low = middle + 1n;
      else high = middle;
    }
    return low - 1n;
  }

  async follow(deliver: (event: SequencedExitEvent) => void): Promise<void> {
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

  private get oldestKept(): bigint {
    return this.sequence - BigInt(this.size) + 1n;
  }

  private at(sequence: bigint): SequencedExitEvent {
    return this.events[this.head + Number(sequence - this.oldestKept)]!;
  }

  private trim(now: number): void {
    const { maxEvents, maxAgeMs } = this.retention;
    while (this.size > 0) {
      const oldest = this.events[this.head]!;
      const tooOld = maxAgeMs > 0 && oldest.appendedMs < now - maxAgeMs && oldest.sequence !== this.sequence;
      if (this.size <= maxEvents && !tooOld) break;
      this.events[this.head++] = undefined as never;
    }
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.events.splice(0, this.head);
      this.head = 0;
    }
  }
}
