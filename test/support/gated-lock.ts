import { InProcessLock } from "../../src/lock/in-process-lock.js";
import type { ExitLock, LockAcquisition, LockLease, ReleaseStatus } from "../../src/exit/ports.js";

/** A promise and the function that resolves it. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

/**
 * The embedded lock with gates a test opens by hand: while `acquireGate` is
 * set, an acquisition waits for it (after telling `acquireStarted`); while
 * `releaseGate` is set, a release waits for it (after telling `releaseStarted`).
 */
export class GatedLock implements ExitLock {
  readonly inner = new InProcessLock();
  acquireGate: Promise<void> | undefined;
  releaseGate: Promise<void> | undefined;
  readonly acquireStarted = deferred();
  readonly releaseStarted = deferred();
  releasesPending = 0;
  releasesDone = 0;
  private lastRelease: Promise<unknown> = Promise.resolve();

  /** Resolves once the last release asked for so far has finished. */
  async whenReleased(): Promise<void> {
    await this.lastRelease;
  }

  async acquire(resource: string, ttlMs: number): Promise<LockAcquisition> {
    this.acquireStarted.resolve();
    if (this.acquireGate) await this.acquireGate;
    return this.inner.acquire(resource, ttlMs);
  }

  release(lease: LockLease): Promise<ReleaseStatus> {
    const released = this.releaseGated(lease);
    this.lastRelease = released.catch(() => undefined);
    return released;
  }

  private async releaseGated(lease: LockLease): Promise<ReleaseStatus> {
    this.releasesPending++;
    this.releaseStarted.resolve();
    try {
      if (this.releaseGate) await this.releaseGate;
      return await this.inner.release(lease);
    } finally {
      this.releasesPending--;
      this.releasesDone++;
    }
  }
}
