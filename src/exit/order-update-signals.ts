/**
 * Wakes whoever waits for an exit order's fill when an order update for its
 * correlation id has been applied (OrderUpdateHandler notifies), so a waiting
 * exit re-reads the tracker at once instead of at its next poll. In-process;
 * other processes' updates are seen by polling.
 */
export class OrderUpdateSignals {
  private readonly listeners = new Map<string, Set<() => void>>();

  /** Calls every listener of `correlationId`. */
  notify(correlationId: string): void {
    const listeners = this.listeners.get(correlationId);
    if (listeners) for (const listener of [...listeners]) listener();
  }

  /** Calls `listener` on each update for `correlationId` until the returned function is called. */
  on(correlationId: string, listener: () => void): () => void {
    let listeners = this.listeners.get(correlationId);
    if (!listeners) this.listeners.set(correlationId, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.listeners.delete(correlationId);
    };
  }

  /** True while someone waits on `correlationId`: an exit of this process that will answer its caller itself. */
  watching(correlationId: string): boolean {
    return this.listeners.has(correlationId);
  }

  /** Correlation ids someone waits on; for tests. */
  get watched(): number {
    return this.listeners.size;
  }
}
