/**
 * Counts exits that are running, so that shutdown can wait for them: an exit
 * is never abandoned between its intent and its result.
 */
export class ExitsInFlight {
  private running = 0;
  private waiters: Array<() => void> = [];

  /** Runs `work`, counted as in flight until it settles. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      if (this.running === 0) this.wake();
    }
  }

  /** Exits running now. */
  get size(): number {
    return this.running;
  }

  /** Resolves when no exit is running (at once when none is). */
  whenIdle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
