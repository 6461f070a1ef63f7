/** Owed exit retries in this process's memory: the embedded default, gone with the process. */
import type { OwedExits } from "../exit/ports.js";

export class MemoryOwedExits implements OwedExits {
  private readonly retries = new Map<string, number>();

  async owe(orderNo: string): Promise<void> {
    if (!this.retries.has(orderNo)) this.retries.set(orderNo, 0);
  }

  async retried(orderNo: string, retries: number): Promise<void> {
    this.retries.set(orderNo, retries);
  }

  async settle(orderNo: string): Promise<void> {
    this.retries.delete(orderNo);
  }

  async all(): Promise<Map<string, number>> {
    return new Map(this.retries);
  }
}
