/**
 * Opens after `threshold` consecutive failures with an unknown outcome and
 * stays open for `openMs`: while open the router reports itself unavailable,
 * so exits answer ROUTER_UNAVAILABLE instead of piling intents onto a broker
 * that does not answer. One success closes it.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;

  constructor(
    private readonly threshold: number,
    private readonly openMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Undefined when closed; otherwise why it is open. */
  openReason(): string | undefined {
    const remaining = this.openUntil - this.now();
    return remaining > 0 ? `circuit open for another ${remaining} ms after ${this.threshold} failed broker calls` : undefined;
  }

  recordSuccess(): void {
    this.failures = 0;
    this.openUntil = 0;
  }

  recordFailure(): void {
    this.failures += 1;
    if (this.failures >= this.threshold) this.openUntil = this.now() + this.openMs;
  }
}
