import { TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { TrackerRecord } from "../../src/domain/tracker.js";
import { TradingCoreError } from "../../src/domain/trading-core-error.js";
import type { CompareAndSetOutcome, TrackerStore } from "../../src/exit/ports.js";
import { MemoryTrackerStore } from "../../src/store/memory-tracker-store.js";

/**
 * A memory store whose writes to a chosen status fail on demand, as an unreachable database would, or are
 * applied with their reply lost (a primary that dies after the write), and whose reads fail while it is "down".
 */
export class FlakyTrackerStore extends MemoryTrackerStore implements TrackerStore {
  private failuresLeft = 0;
  private failingStatus: TrackerStatus = TrackerStatus.EXITED;
  private lostRepliesLeft = 0;
  private lostReplyStatus: TrackerStatus = TrackerStatus.EXITED;
  /** While true, every read and write throws `unavailable`. */
  down = false;
  failedWrites = 0;

  /** The next `count` writes that would set `status` throw `unavailable`. */
  failWritesTo(status: TrackerStatus, count: number): void {
    this.failingStatus = status;
    this.failuresLeft = count;
  }

  /** The next `count` writes that set `status` are applied, then throw `unavailable` as if the reply was lost. */
  loseRepliesOfWritesTo(status: TrackerStatus, count: number): void {
    this.lostReplyStatus = status;
    this.lostRepliesLeft = count;
  }

  override async get(orderNo: string): Promise<TrackerRecord | undefined> {
    if (this.down) throw new TradingCoreError("unavailable", "tracker store unreachable (injected)");
    return super.get(orderNo);
  }

  override async compareAndSet(next: TrackerRecord, expectedVersion: number): Promise<CompareAndSetOutcome> {
    if (this.down || (this.failuresLeft > 0 && next.status === this.failingStatus)) {
      if (!this.down) this.failuresLeft -= 1;
      this.failedWrites += 1;
      throw new TradingCoreError("unavailable", "tracker store unreachable (injected)");
    }
    const written = await super.compareAndSet(next, expectedVersion);
    if (this.lostRepliesLeft > 0 && next.status === this.lostReplyStatus && written.kind === "written") {
      this.lostRepliesLeft -= 1;
      // Lost replies are followed by an outage, as when the primary dies right after the write.
      this.down = this.downAfterLostReply;
      throw new TradingCoreError("unavailable", "tracker store connection lost before the reply (injected)");
    }
    return written;
  }

  /** Whether a lost reply also takes the store down (reads and writes fail until `down` is set false). */
  downAfterLostReply = false;
}
