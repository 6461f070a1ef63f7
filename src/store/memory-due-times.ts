/** The embedded due times: one Map, for a single process (lost with it, as the embedded trackers are). */
import type { DueClaim, DueTimes } from "../protection/due-times.js";

export class MemoryDueTimes implements DueTimes {
  private readonly due = new Map<string, number>();

  async schedule(key: string, dueMs: number): Promise<void> {
    this.due.set(key, dueMs);
  }

  async cancel(key: string): Promise<void> {
    this.due.delete(key);
  }

  async claimDue(nowMs: number, leaseMs: number, limit: number): Promise<DueClaim[]> {
    const ready = [...this.due.entries()]
      .filter(([, dueMs]) => dueMs <= nowMs)
      .sort(([a, x], [b, y]) => x - y || (a < b ? -1 : 1))
      .slice(0, limit);
    return ready.map(([key, dueMs]) => {
      this.due.set(key, nowMs + leaseMs);
      return { key, dueMs, leaseUntilMs: nowMs + leaseMs };
    });
  }

  async complete(claim: DueClaim): Promise<void> {
    if (this.due.get(claim.key) === claim.leaseUntilMs) this.due.delete(claim.key);
  }

  async dueTimeOf(key: string): Promise<number | undefined> {
    return this.due.get(key);
  }
}
