/**
 * The port the time-exit scheduler keeps its due times behind: an in-memory
 * adapter for one process, a Redis sorted set for a fleet and for restarts.
 * Every method is atomic.
 */

/** A due time handed to one claimer. */
export interface DueClaim {
  readonly key: string;
  /** The due time the entry had when it was claimed, epoch ms. */
  readonly dueMs: number;
  /** Until when the claim holds (epoch ms): the entry comes due again then unless completed or moved. */
  readonly leaseUntilMs: number;
}

export interface DueTimes {
  /** Sets or moves `key`'s due time (epoch ms); a claim of the old one no longer completes it. */
  schedule(key: string, dueMs: number): Promise<void>;
  /** Forgets `key`. */
  cancel(key: string): Promise<void>;
  /**
   * Claims up to `limit` entries due by `nowMs`, earliest first, each moved
   * to `nowMs + leaseMs`: one caller gets each per due time, across every
   * process sharing the store, and another gets it again only once the lease
   * passes without `complete` (its claimer failed or crashed).
   */
  claimDue(nowMs: number, leaseMs: number, limit: number): Promise<DueClaim[]>;
  /** Removes a claimed entry, unless it was scheduled anew since the claim. */
  complete(claim: DueClaim): Promise<void>;
  /** The entry's due time (or its claim's lease end), epoch ms; undefined when there is none. */
  dueTimeOf(key: string): Promise<number | undefined>;
}
