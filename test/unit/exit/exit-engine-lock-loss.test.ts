import { describe, expect, it } from "vitest";
import { ExitStatus, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import type { ExitLock, LockAcquisition, LockLease, ReleaseStatus } from "../../../src/exit/ports.js";
import { InProcessLock } from "../../../src/lock/in-process-lock.js";
import { exitWorld } from "./exit-world.js";

/** An InProcessLock whose leases read as lost from the moment `lose()` is called: a lock that lapsed mid-exit. */
class LapsingLock implements ExitLock {
  private readonly inner = new InProcessLock();
  private lapsed = false;

  lose(): void {
    this.lapsed = true;
  }

  async acquire(resource: string, ttlMs: number): Promise<LockAcquisition> {
    const acquisition = await this.inner.acquire(resource, ttlMs);
    if (acquisition.kind !== "acquired") return acquisition;
    const lease = acquisition.lease;
    const lock = this;
    const lapsing: LockLease = {
      resource: lease.resource,
      fencingToken: lease.fencingToken,
      attempts: lease.attempts,
      get lost() {
        return lock.lapsed || lease.lost;
      },
      get signal() {
        return lease.signal;
      },
      get validUntilMs() {
        return lease.validUntilMs;
      },
    };
    return { kind: "acquired", lease: lapsing };
  }

  release(lease: LockLease): Promise<ReleaseStatus> {
    return this.inner.release(lease);
  }
}

describe("ExitEngine when its exit lock is lost before the intent is stored", () => {
  it("answers EXIT_IN_PROGRESS, sends no order and leaves the tracker ACTIVE", async () => {
    const lock = new LapsingLock();
    const world = exitWorld({ lock });
    await world.register("ORD-LAPSED");
    lock.lose();

    const outcome = await world.exit("ORD-LAPSED");

    expect(outcome.status).toBe(ExitStatus.EXIT_IN_PROGRESS);
    expect(outcome.message).toMatch(/exit lock lost before the intent was stored/);
    expect(world.router.ordersFor("ORD-LAPSED")).toBe(0);
    expect((await world.tracker("ORD-LAPSED")).status).toBe(TrackerStatus.ACTIVE);
  });
});
