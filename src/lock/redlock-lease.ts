/**
 * A held Redlock lease. While it is held it extends itself every
 * `extendEveryMs`; the moment its validity runs out without a quorum having
 * extended it, its signal aborts, so the holder stops before its next
 * irreversible step. A stalled event loop is noticed when it resumes: the
 * validity is checked before any extension is tried, and a lapsed lease is
 * never revived.
 */
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { LockLease } from "../exit/ports.js";

/** Extends the lease on the nodes; answers the new validity end (monotonic ms) or undefined without a quorum. */
export type LeaseRenewal = (lease: RedlockLease) => Promise<number | undefined>;

export class RedlockLease implements LockLease {
  /** Created on first use of `signal`: most of a lease's cost on a fast path that never looks at it. */
  private controller: AbortController | undefined;
  private lostReason: TradingCoreError | undefined;
  /** One timer at a time: the next extension, or the validity's end while an extension is in flight. */
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    readonly resource: string,
    /** The random value stored on the nodes: proof of ownership. */
    readonly value: string,
    readonly fencingToken: number,
    readonly attempts: number,
    /** Monotonic ms (performance.now) until which the lock is certainly held. */
    private validUntil: number,
    private readonly extendEveryMs: number,
    private readonly renew: LeaseRenewal,
    private readonly now: () => number,
  ) {}

  /** A lease past its validity reads as lost even before its timer has noticed (a stalled event loop). */
  get lost(): boolean {
    if (!this.ended && this.now() >= this.validUntil) this.lose("its validity ran out before it could be extended");
    return this.lostReason !== undefined;
  }

  /** Aborted once the lease is lost (see `lost`). */
  get signal(): AbortSignal {
    const lost = this.lost;
    if (!this.controller) {
      this.controller = new AbortController();
      if (lost) this.controller.abort(this.lostReason);
    }
    return this.controller.signal;
  }

  /**
   * The validity's end as epoch ms (Date.now's time): the monotonic end
   * carried over to the wall clock at the moment it is read.
   */
  get validUntilMs(): number {
    // Rounded down: whole ms, never later than the validity.
    return Math.floor(Date.now() + (this.validUntil - this.now()));
  }

  /** True while neither released nor lost and within its validity. */
  get held(): boolean {
    return !this.ended && this.now() < this.validUntil;
  }

  /** Starts the automatic extension. */
  start(): void {
    this.wakeIn(this.extendEveryMs, () => void this.extendOnce());
  }

  /** Stops extending (on release); answers whether the lease was still held. */
  end(): boolean {
    const wasHeld = this.held;
    this.ended = true;
    clearTimeout(this.timer);
    return wasHeld;
  }

  private async extendOnce(): Promise<void> {
    if (this.ended) return;
    if (this.now() >= this.validUntil) return this.lose("its validity ran out before it could be extended");
    this.wakeIn(this.validUntil - this.now(), () => this.checkValidity());
    const renewed = await this.renew(this).catch(() => undefined);
    if (this.ended) return;
    clearTimeout(this.timer);
    if (renewed !== undefined) {
      this.validUntil = Math.max(this.validUntil, renewed);
      return this.wakeIn(this.extendEveryMs, () => void this.extendOnce());
    }
    const remaining = this.validUntil - this.now();
    if (remaining <= 0) return this.lose("no quorum of lock nodes extended it");
    this.wakeIn(Math.min(this.extendEveryMs, remaining / 3), () => void this.extendOnce());
  }

  private checkValidity(): void {
    if (this.ended) return;
    if (this.now() >= this.validUntil) this.lose("its validity ran out while an extension was pending");
    else this.wakeIn(this.validUntil - this.now(), () => this.checkValidity());
  }

  private wakeIn(ms: number, then: () => void): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(then, Math.max(1, Math.ceil(ms)));
    this.timer.unref();
  }

  private lose(why: string): void {
    this.ended = true;
    clearTimeout(this.timer);
    this.lostReason = new TradingCoreError("unavailable", `exit lock ${this.resource} lost: ${why}`);
    this.controller?.abort(this.lostReason);
  }
}
