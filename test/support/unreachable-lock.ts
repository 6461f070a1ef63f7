import type { ExitLock, LockAcquisition, ReleaseStatus } from "../../src/exit/ports.js";

/** A lock whose nodes cannot be reached: every acquisition answers "unavailable". */
export class UnreachableLock implements ExitLock {
  acquisitions = 0;

  async acquire(): Promise<LockAcquisition> {
    this.acquisitions += 1;
    return { kind: "unavailable", attempts: 3, message: "no quorum: 0 of 3 lock nodes answered" };
  }

  async release(): Promise<ReleaseStatus> {
    return "not-held";
  }
}
