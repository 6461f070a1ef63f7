/**
 * The scheduler of time exits and session-end square-offs: due times are
 * kept in the DueTimes port (Redis when configured), and every pass fires
 * those that came due, also when no tick arrives and also after a restart
 * (a due time that passed while no process ran fires at the first pass).
 *
 * Invariants:
 * - One process fires each due time: the claim is atomic; the others skip
 *   it quietly.
 * - Firing is the ExitEngine's exactly-once exit, reason TIME_BASED or
 *   SESSION_END, and the due time is computed again from the plan as stored
 *   under the exit lock: a plan changed or removed before then sends nothing
 *   (a due time moved later is scheduled again).
 * - A due time whose exit is not done (a rejection, a busy lock, no router,
 *   a tracker still PENDING) stays claimed and fires again `retryMs` later,
 *   by any process, as it does when the process firing it dies.
 */
import { ExitStatus, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { ProtectionRule } from "../../gen/tradingcore/v1/protection_pb.js";
import type { ExitTrigger } from "../domain/exit-plan.js";
import { isTerminal, type TrackerRecord } from "../domain/tracker.js";
import type { ExitEngine } from "../exit/exit-engine.js";
import type { ExitOutcome } from "../exit/exit-outcome.js";
import { PeriodicPass } from "../exit/periodic-pass.js";
import type { Clock, ExitEventSink, ExitLog, TrackerStore } from "../exit/ports.js";
import { runTriggeredExit } from "./triggered-exit.js";
import type { DueClaim, DueTimes } from "./due-times.js";
import { REASON_CODE_OF, type SessionEndDefaults, TIME_RULES, type TimeRule, dueKey, dueTimeOf, parseDueKey } from "./time-rules.js";

export interface TimeExitSchedulerSettings {
  /** Pause between passes, ms: how late after its due time an exit may fire. */
  readonly intervalMs: number;
  /** A fired due time whose exit is not done fires again after this, ms. */
  readonly retryMs: number;
  readonly sessionEndDefaults: SessionEndDefaults;
}

export interface TimeExitSchedulerDeps {
  readonly due: DueTimes;
  readonly store: Pick<TrackerStore, "get">;
  readonly engine: Pick<ExitEngine, "execute">;
  readonly clock: Clock;
  readonly events: ExitEventSink;
  readonly log: ExitLog;
  readonly settings: TimeExitSchedulerSettings;
}

export interface SchedulerPass {
  /** Due times this process claimed. */
  readonly fired: number;
  /** Exits run, by status name. */
  readonly exits: Readonly<Record<string, number>>;
}

const CLAIMS_PER_PASS = 100;
const PARALLEL = 8;

/** Done with this due time: flat, settled, gone, or an intent the reconciler follows. */
const DONE: ReadonlySet<ExitStatus> = new Set([
  ExitStatus.EXITED,
  ExitStatus.ALREADY_EXITED,
  ExitStatus.AWAITING_FILL,
  ExitStatus.OUTCOME_UNKNOWN,
  ExitStatus.PENDING_RECONCILE,
  ExitStatus.TRACKER_NOT_FOUND,
]);

export class TimeExitScheduler {
  private readonly loop: PeriodicPass<SchedulerPass>;

  constructor(private readonly deps: TimeExitSchedulerDeps) {
    this.loop = new PeriodicPass("time-exit scheduler", () => this.pass(), deps.settings.intervalMs, deps.log);
  }

  /**
   * Records (or moves, or forgets) the due times of the tracker's time rules
   * as its plan now stands; told of every registration and plan change.
   */
  async watch(tracker: TrackerRecord): Promise<void> {
    await Promise.all(TIME_RULES.map((rule) => this.reschedule(tracker, rule)));
  }

  /** One pass now; tests drive the scheduler with it and an injected clock. */
  runOnce(): Promise<SchedulerPass> {
    return this.loop.runOnce();
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async pass(): Promise<SchedulerPass> {
    const claims = await this.deps.due.claimDue(this.deps.clock.now(), this.deps.settings.retryMs, CLAIMS_PER_PASS);
    const exits: Record<string, number> = {};
    for (let i = 0; i < claims.length; i += PARALLEL) {
      const outcomes = await Promise.all(claims.slice(i, i + PARALLEL).map((claim) => this.fire(claim)));
      for (const outcome of outcomes) {
        if (outcome) exits[ExitStatus[outcome.status]!] = (exits[ExitStatus[outcome.status]!] ?? 0) + 1;
      }
    }
    return { fired: claims.length, exits };
  }

  /** `again`: the plan changed while this exit took its lock; it is looked at once more, at once. */
  private async fire(claim: DueClaim, again = false): Promise<ExitOutcome | undefined> {
    const parsed = parseDueKey(claim.key);
    if (!parsed) {
      await this.deps.due.cancel(claim.key);
      return undefined;
    }
    const { rule, orderNo } = parsed;
    const tracker = await this.deps.store.get(orderNo);
    if (!tracker || (await this.settledOrMoved(tracker, rule, claim))) return undefined;
    const dueMs = dueTimeOf(tracker, rule, this.deps.settings.sessionEndDefaults) ?? claim.dueMs;
    const trigger: ExitTrigger = { rule: PROTECTION_RULE_OF[rule], tickTimeMs: dueMs, planVersion: tracker.exitPlan?.version ?? 0 };
    const reason = reasonOf(rule, dueMs);
    const outcome = await runTriggeredExit(this.deps, {
      orderNo,
      reason,
      reasonCode: REASON_CODE_OF[rule],
      trigger,
      unwantedBecause: (current) => this.unwanted(current, rule),
    });
    if (DONE.has(outcome.status)) await this.deps.due.complete(claim);
    else if (outcome.status === ExitStatus.NOT_ACTIVE) return (await this.afterNotActive(orderNo, rule, claim, again)) ?? outcome;
    else {
      this.deps.log.error(
        { orderNo, rule, status: ExitStatus[outcome.status], message: outcome.message, retryInMs: this.deps.settings.retryMs },
        "time exit not done; fired again later",
      );
    }
    return outcome;
  }

  /** Why the tracker as stored under the lock no longer calls for this rule's exit now. */
  private unwanted(tracker: TrackerRecord, rule: TimeRule): string | undefined {
    const dueMs = dueTimeOf(tracker, rule, this.deps.settings.sessionEndDefaults);
    if (dueMs === undefined) return `its exit plan (version ${tracker.exitPlan?.version ?? "none"}) has no ${rule} rule`;
    if (dueMs > this.deps.clock.now()) return `its exit plan moved the ${rule} due time to ${new Date(dueMs).toISOString()}`;
    return undefined;
  }

  /** True when nothing is left to fire now: the tracker is settled, or its plan dropped or moved the rule (scheduled again). */
  private async settledOrMoved(tracker: TrackerRecord, rule: TimeRule, claim: DueClaim): Promise<boolean> {
    const dueMs = dueTimeOf(tracker, rule, this.deps.settings.sessionEndDefaults);
    if (isTerminal(tracker.status) || dueMs === undefined) {
      await this.deps.due.complete(claim);
      return true;
    }
    if (dueMs > this.deps.clock.now()) {
      await this.deps.due.schedule(claim.key, dueMs);
      return true;
    }
    return false;
  }

  /**
   * PENDING stays claimed (its entry may fill, and is then exited); an
   * ACTIVE tracker still due (its plan changed, keeping this rule, while the
   * exit took its lock) is fired once more now; anything else is settled.
   */
  private async afterNotActive(orderNo: string, rule: TimeRule, claim: DueClaim, again: boolean): Promise<ExitOutcome | undefined> {
    const tracker = await this.deps.store.get(orderNo);
    if (!tracker) return void (await this.deps.due.complete(claim));
    if (tracker.status === TrackerStatus.PENDING) return undefined;
    if (await this.settledOrMoved(tracker, rule, claim)) return undefined;
    return again || tracker.status !== TrackerStatus.ACTIVE ? undefined : this.fire(claim, true);
  }

  private async reschedule(tracker: TrackerRecord, rule: TimeRule): Promise<void> {
    const key = dueKey(rule, tracker.orderNo);
    const dueMs = isTerminal(tracker.status) ? undefined : dueTimeOf(tracker, rule, this.deps.settings.sessionEndDefaults);
    if (dueMs === undefined) await this.deps.due.cancel(key);
    else await this.deps.due.schedule(key, dueMs);
  }
}

const PROTECTION_RULE_OF: Readonly<Record<TimeRule, ProtectionRule>> = {
  TIME_EXIT: ProtectionRule.TIME_EXIT,
  SESSION_END: ProtectionRule.SESSION_END,
};

function reasonOf(rule: TimeRule, dueMs: number): string {
  const at = new Date(dueMs).toISOString();
  return rule === "TIME_EXIT" ? `time exit due at ${at}` : `session-end square-off due at ${at}`;
}
