import { TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { TrackerRecord } from "../../src/domain/tracker.js";
import { TradingCoreError } from "../../src/domain/trading-core-error.js";
import type { CompareAndSetOutcome, TrackerStore } from "../../src/exit/ports.js";
import { MemoryTrackerStore } from "../../src/store/memory-tracker-store.js";

/** A memory store whose writes to a chosen status fail on demand, as an unreachable database would. */
export class FlakyTrackerStore extends MemoryTrackerStore implements TrackerStore {
  private failuresLeft = 0;
  private failingStatus: TrackerStatus = TrackerStatus.EXITED;
  failedWrites = 0;

  /** The next `count` writes that would set `status` throw `unavailable`. */
  failWritesTo(status: TrackerStatus, count: number): void {
    this.failingStatus = status;
    this.failuresLeft = count;
  }

  override async compareAndSet(next: TrackerRecord, expectedVersion: number): Promise<CompareAndSetOutcome> {
    if (this.failuresLeft > 0 && next.status === this.failingStatus) {
      this.failuresLeft -= 1;
      this.failedWrites += 1;
      throw new TradingCoreError("unavailable", "tracker store unreachable (injected)");
    }
    return super.compareAndSet(next, expectedVersion);
  }
}
