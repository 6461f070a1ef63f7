/**
 * An ExitLock that records acquisition latency and failures; otherwise it
 * is the lock it wraps (same answers, same errors).
 */
import type { ExitLock, LockAcquisition, LockLease, ReleaseStatus } from "../exit/ports.js";
import type { TradingCoreMetrics } from "./trading-core-metrics.js";

export class MeteredExitLock implements ExitLock {
  constructor(
    private readonly lock: ExitLock,
    private readonly metrics: TradingCoreMetrics,
  ) {}

  async acquire(resource: string, ttlMs: number): Promise<LockAcquisition> {
    const started = performance.now();
    try {
      const acquisition = await this.lock.acquire(resource, ttlMs);
      this.metrics.lockAcquired(acquisition.kind, performance.now() - started);
      return acquisition;
    } catch (error) {
      this.metrics.lockAcquired("error", performance.now() - started);
      throw error;
    }
  }

  release(lease: LockLease): Promise<ReleaseStatus> {
    return this.lock.release(lease);
  }
}
