/**
 * Steps 2 and 8 of DESIGN section 3: the exit lock around one exit, and the
 * release after the answer.
 *
 * Invariants:
 * - The work runs only while its lease is held; its answer is returned as
 *   soon as the work resolves: the caller never waits for the release.
 * - Every lease acquired is released, owner-only, on every path; a failed
 *   release is logged and the lock expires by its TTL.
 * - Releases still running are counted: `whenReleased` lets shutdown wait
 *   for them, so no lock is left held by a process that stopped cleanly.
 * - An exit of this process waits for this process's own release of the same
 *   resource before acquiring it, so a retry right after an answer (the
 *   reconciler's, a caller's) does not find its own lock busy.
 */
import { ExitStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { type ExitOutcome, exitOutcome } from "./exit-outcome.js";
import { EXIT_SPANS, type TraceParent, annotate, inSpan } from "./exit-tracing.js";
import { ExitsInFlight } from "./exits-in-flight.js";
import type { ExitLock, ExitLog, LockLease } from "./ports.js";

export class ExitLockScope {
  private readonly releases = new ExitsInFlight();
  /** Releases running now, by resource. */
  private readonly releasing = new Map<string, Promise<void>>();

  constructor(
    private readonly lock: ExitLock,
    private readonly log: ExitLog,
    private readonly ttlMs: number,
  ) {}

  /**
   * Runs `work` under the lock on `resource`. A busy lock answers `whenBusy()`
   * (the truth read without the lock); no quorum answers LOCK_UNAVAILABLE.
   */
  async run(
    resource: string,
    parent: TraceParent,
    work: (lease: LockLease) => Promise<ExitOutcome>,
    whenBusy: () => Promise<ExitOutcome>,
  ): Promise<ExitOutcome> {
    const acquisition = await inSpan(parent, EXIT_SPANS.lockAcquire, async (span) => {
      await this.releasing.get(resource);
      const result = await this.lock.acquire(resource, this.ttlMs);
      annotate(span, () => ({
        "lock.attempts": result.kind === "acquired" ? result.lease.attempts : result.attempts,
        "lock.result": result.kind,
      }));
      return result;
    });
    if (acquisition.kind === "busy") return whenBusy();
    if (acquisition.kind === "unavailable") {
      return exitOutcome(ExitStatus.LOCK_UNAVAILABLE, { message: `exit lock unavailable: ${acquisition.message}` });
    }
    try {
      return await work(acquisition.lease);
    } finally {
      this.releaseAfterAnswer(acquisition.lease, parent);
    }
  }

  /** Resolves once no release started so far is still running. */
  whenReleased(): Promise<void> {
    return this.releases.whenIdle();
  }

  /** Releases still running. */
  get pending(): number {
    return this.releases.size;
  }

  /**
   * Not awaited: the answer `run` resolves with does not wait for its round
   * trip. Sent on the next turn of the event loop, once the answer is written
   * to the caller (on a small machine, lock nodes woken by the release would
   * otherwise compete with the answer's delivery); counted from now.
   */
  private releaseAfterAnswer(lease: LockLease, parent: TraceParent): void {
    const released = this.releases.run(() =>
      inSpan(parent, EXIT_SPANS.lockRelease, async (span) => {
        await new Promise<void>((resolve) => setImmediate(resolve));
        const status = await this.lock.release(lease).catch((error: unknown) => {
          this.log.warn({ err: error, resource: lease.resource }, "exit lock release failed; it expires by its TTL");
          return "failed" as const;
        });
        annotate(span, () => ({ "lock.release": status }));
        if (status !== "released") this.log.warn({ resource: lease.resource, status }, "exit lock was not held at release");
      }),
    );
    const settled = released
      .catch(() => undefined)
      .finally(() => {
        if (this.releasing.get(lease.resource) === settled) this.releasing.delete(lease.resource);
      });
    this.releasing.set(lease.resource, settled);
  }
}
