/**
 * The dead-man switch: every pass claims the sessions whose lease passed
 * and applies their lapse action to the trackers registered under them.
 *
 * Invariants:
 * - A lapse is acted on by the one process whose claim won (the store's
 *   atomic claim); the others find nothing to claim and do nothing.
 * - Every exit is the ExitEngine's exactly-once exit, reason SESSION_LAPSED,
 *   checked under the exit lock to still belong to the session: a retried
 *   claim, or two processes, never send a second order.
 * - A claim is settled only when every tracker of the session is flat, not
 *   active, or has a stored intent (its order is the reconciler's to follow);
 *   otherwise (a rejection, a busy lock, no router) it is claimed again
 *   `lapseRetryMs` later, by whichever process gets there first, also after a
 *   crash of the one acting on it.
 * - TIGHTEN gives each ACTIVE or PENDING tracker the session's fallback
 *   rules through the plan's version-checked change (session-tightening.ts)
 *   and sends no order, unless the result does not fit the tracker, which is
 *   then exited as EXIT_ALL would.
 * - Closing a session cleanly removes it from the claims: nothing happens to
 *   its trackers.
 */
import { ExitEventKind } from "../../gen/tradingcore/v1/exit_pb.js";
import { ExitReasonCode, ExitStatus, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { SessionLapseAction } from "../../gen/tradingcore/v1/session_pb.js";
import type { SessionRecord } from "../domain/session.js";
import type { TrackerRecord } from "../domain/tracker.js";
import type { ExitEngine } from "../exit/exit-engine.js";
import type { ExitOutcome } from "../exit/exit-outcome.js";
import { PeriodicPass } from "../exit/periodic-pass.js";
import type { Clock, ExitEventSink, ExitLog, TrackerStore } from "../exit/ports.js";
import { tighten } from "./session-tightening.js";
import type { LapseClaim, SessionStore } from "./session-store.js";

export interface SessionWatchdogSettings {
  /** Pause between passes, ms: how late after its lease a lapse may be noticed. */
  readonly intervalMs: number;
  /** A claimed lapse not settled is claimed again after this, ms. */
  readonly lapseRetryMs: number;
  /** Exits of one session run at once. */
  readonly maxParallel: number;
}

export interface SessionWatchdogDeps {
  readonly sessions: SessionStore;
  readonly store: TrackerStore;
  /** Told of every tracker whose plan TIGHTEN changed (the tick rules and the scheduler follow it). */
  readonly planChanged?: (tracker: TrackerRecord) => Promise<void>;
  readonly engine: Pick<ExitEngine, "execute">;
  readonly clock: Clock;
  readonly events: ExitEventSink;
  readonly log: ExitLog;
  readonly settings: SessionWatchdogSettings;
}

export interface WatchdogPass {
  /** Lapses claimed by this process in the pass. */
  readonly claimed: number;
  /** Exits the pass ran, by status name. */
  readonly exits: Readonly<Record<string, number>>;
  /** Trackers TIGHTEN gave the fallback plan. */
  readonly tightened: number;
  /** Claims left unsettled, to be claimed again. */
  readonly unsettled: number;
}

/** Sessions claimed per pass; more wait for the next pass. */
const CLAIMS_PER_PASS = 100;

/** What leaves a tracker's part of a lapse done: flat, nothing to exit, or an intent the reconciler follows. */
const SETTLING: ReadonlySet<ExitStatus> = new Set([
  ExitStatus.EXITED,
  ExitStatus.ALREADY_EXITED,
  ExitStatus.NOT_ACTIVE,
  ExitStatus.AWAITING_FILL,
  ExitStatus.OUTCOME_UNKNOWN,
  ExitStatus.PENDING_RECONCILE,
]);

/**
 * Exits another holder of the tracker's exit lock has under way: the usual course when another
 * process acted on the lapse first or died holding the lock (until its TTL), retried, not a fault.
 */
const CONTENDED: ReadonlySet<ExitStatus> = new Set([ExitStatus.EXIT_IN_PROGRESS, ExitStatus.LOCK_UNAVAILABLE]);

export class SessionWatchdog {
  private readonly loop: PeriodicPass<WatchdogPass>;

  constructor(private readonly deps: SessionWatchdogDeps) {
    this.loop = new PeriodicPass("session watchdog", () => this.pass(), deps.settings.intervalMs, deps.log);
  }

  /** One pass now; tests drive the watchdog with it and an injected clock. */
  runOnce(): Promise<WatchdogPass> {
    return this.loop.runOnce();
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async pass(): Promise<WatchdogPass> {
    const { sessions, clock, settings } = this.deps;
    const claims = await sessions.claimLapsed(clock.now(), settings.lapseRetryMs, CLAIMS_PER_PASS);
    const exits: Record<string, number> = {};
    let unsettled = 0;
    let tightened = 0;
    for (const claim of claims) {
      const results = await this.applyLapse(claim);
      for (const { outcome } of results) if (outcome) exits[ExitStatus[outcome.status]!] = (exits[ExitStatus[outcome.status]!] ?? 0) + 1;
      tightened += results.filter((result) => result.tightened).length;
      if (results.every((result) => result.settled)) await sessions.settle(claim.session.sessionId);
      else unsettled++;
    }
    return { claimed: claims.length, exits, tightened, unsettled };
  }

  /** The lapse action on every tracker registered under the session, a few at a time. */
  private async applyLapse(claim: LapseClaim): Promise<TrackerResult[]> {
    const { session } = claim;
    const orderNos = await this.deps.sessions.trackersOf(session.sessionId);
    const action = session.lapseAction === SessionLapseAction.TIGHTEN ? "tightening" : "exiting";
    this.deps.log.warn(
      { sessionId: session.sessionId, trackers: orderNos.length, expiredAt: session.expiresAt, retry: !claim.first },
      `session ${session.sessionId} lapsed: no heartbeat within ${session.ttlMs} ms; ${action} its trackers`,
    );
    const results: TrackerResult[] = [];
    for (let i = 0; i < orderNos.length; i += this.deps.settings.maxParallel) {
      const batch = orderNos.slice(i, i + this.deps.settings.maxParallel);
      results.push(...(await Promise.all(batch.map((orderNo) => this.applyToTracker(orderNo, claim)))));
    }
    return results;
  }

  private async applyToTracker(orderNo: string, claim: LapseClaim): Promise<TrackerResult> {
    const { session } = claim;
    const tracker = await this.deps.store.get(orderNo);
    const mine = tracker?.sessionId === session.sessionId;
    const open = tracker && (tracker.status === TrackerStatus.ACTIVE || tracker.status === TrackerStatus.EXITING);
    if (tracker && mine && claim.first && (open || tracker.status === TrackerStatus.PENDING)) {
      this.deps.events.publish({
        kind: ExitEventKind.SESSION_LAPSED,
        tracker,
        correlationId: tracker.exitCorrelationId,
        timeMs: this.deps.clock.now(),
        message: lapseReason(session),
      });
    }
    const pendingOrActive = tracker?.status === TrackerStatus.ACTIVE || tracker?.status === TrackerStatus.PENDING;
    if (session.lapseAction === SessionLapseAction.TIGHTEN && tracker && mine && pendingOrActive) {
      const tightening = await tighten(this.deps.store, tracker, session, this.deps.clock.now());
      if (tightening.kind === "tightened") {
        await this.deps.planChanged?.(tightening.tracker);
        return { settled: true, tightened: true };
      }
      if (tightening.kind === "raced") return { settled: false };
      this.deps.log.error(
        { sessionId: session.sessionId, orderNo, problem: tightening.problem },
        "the session's fallback plan does not fit the tracker; exiting it",
      );
    }
    const outcome = await this.exitOne(orderNo, session);
    return { outcome, settled: settles(outcome, claim) };
  }

  private async exitOne(orderNo: string, session: SessionRecord): Promise<ExitOutcome> {
    const outcome = await this.deps.engine.execute({
      orderNo,
      reason: lapseReason(session),
      reasonCode: ExitReasonCode.SESSION_LAPSED,
      unwantedBecause: (current) =>
        current.sessionId === session.sessionId ? undefined : `the tracker is not registered under session ${session.sessionId}`,
    });
    if (!SETTLING.has(outcome.status) && outcome.status !== ExitStatus.TRACKER_NOT_FOUND) {
      this.deps.log[CONTENDED.has(outcome.status) ? "warn" : "error"](
        { sessionId: session.sessionId, orderNo, status: ExitStatus[outcome.status], message: outcome.message },
        "session lapse exit not done; retried later",
      );
    }
    return outcome;
  }
}

interface TrackerResult {
  readonly outcome?: ExitOutcome;
  readonly settled: boolean;
  readonly tightened?: boolean;
}

/**
 * A tracker not found on the first claim may still be being registered (its
 * session was recorded first): looked for again on the retry, then let go.
 */
function settles(outcome: ExitOutcome, claim: LapseClaim): boolean {
  if (outcome.status === ExitStatus.TRACKER_NOT_FOUND) return !claim.first;
  return SETTLING.has(outcome.status);
}

function lapseReason(session: SessionRecord): string {
  return `session ${session.sessionId} lapsed: no heartbeat within its ttl of ${session.ttlMs} ms`;
}
