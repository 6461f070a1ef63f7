/** Superseded exit attempts watched for duplicates, in this process's memory: the embedded default. */
import type { SupersededAttempt, SupersededAttempts } from "../exit/ports.js";

export class MemorySupersededAttempts implements SupersededAttempts {
  private readonly attempts = new Map<string, SupersededAttempt>();

  async watch(entry: SupersededAttempt): Promise<void> {
    this.attempts.set(entry.correlationId, entry);
  }

  async forget(correlationId: string): Promise<void> {
    this.attempts.delete(correlationId);
  }

  async all(): Promise<SupersededAttempt[]> {
    return [...this.attempts.values()];
  }
}
