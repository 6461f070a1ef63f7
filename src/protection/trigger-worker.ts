/**
 * Runs the exits that fired rules start, off the tick path: at most
 * `parallel` at once and `queued` waiting; a trigger that finds the queue
 * full is refused (the book re-arms it and the next tick fires it again).
 *
 * Each exit: claim the trigger in the store (one process of a fleet wins,
 * the others skip quietly, without touching the exit lock), then run the
 * same exactly-once exit as ExecuteExit with the rule's reason code, under a
 * `protection.trigger` span that carries the trigger. The exit itself
 * re-checks, under its lock, that the plan is still the version the trigger
 * was evaluated under, and announces the trigger on WatchExits (TRIGGERED)
 * only once its intent is stored.
 */
import { ExitReasonCode, ExitStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { ProtectionRule } from "../../gen/tradingcore/v1/protection_pb.js";
import type { ExitTrigger } from "../domain/exit-plan.js";
import { formatDecimal } from "../domain/money.js";
import type { ExitEngine } from "../exit/exit-engine.js";
import type { ExitOutcome } from "../exit/exit-outcome.js";
import type { Clock, ExitEventSink, ExitLog, ProtectionStates } from "../exit/ports.js";
import type { ProtectionBook, WatchedTracker } from "./protection-book.js";
import { runTriggeredExit } from "./triggered-exit.js";

export { PROTECTION_SPAN } from "./triggered-exit.js";

const REASON_CODES: Record<ProtectionRule, ExitReasonCode> = {
  [ProtectionRule.UNSPECIFIED]: ExitReasonCode.UNSPECIFIED,
  [ProtectionRule.STOP_LOSS]: ExitReasonCode.STOP_LOSS,
  [ProtectionRule.TAKE_PROFIT]: ExitReasonCode.TAKE_PROFIT,
  [ProtectionRule.TRAILING_STOP]: ExitReasonCode.TRAILING_STOP,
  [ProtectionRule.PEAK_DRAWDOWN]: ExitReasonCode.PEAK_DRAWDOWN,
  [ProtectionRule.TIME_EXIT]: ExitReasonCode.TIME_BASED,
  [ProtectionRule.SESSION_END]: ExitReasonCode.SESSION_END,
};

/** The exit reason code of a rule. */
export function reasonCodeOf(rule: ProtectionRule): ExitReasonCode {
  return REASON_CODES[rule];
}

export interface TriggerWorkerSettings {
  readonly parallel: number;
  readonly queued: number;
  /** How long a claim keeps other processes off a trigger, ms: longer than one exit takes. */
  readonly claimTtlMs: number;
  /** Pause before a tracker whose exit did not happen (refused, lock unavailable) may fire again, ms. */
  readonly retryMs: number;
}

export interface TriggerWorkerDeps {
  readonly engine: Pick<ExitEngine, "execute">;
  readonly states: ProtectionStates;
  readonly book: () => ProtectionBook;
  readonly events: ExitEventSink;
  readonly clock: Clock;
  readonly log: ExitLog;
}

/** Outcomes after which there is nothing left to protect under this plan: the book lets the tracker go. */
const SETTLED = new Set([ExitStatus.EXITED, ExitStatus.ALREADY_EXITED, ExitStatus.NOT_ACTIVE, ExitStatus.TRACKER_NOT_FOUND]);

/**
 * Outcomes that leave the tracker EXITING: the intent is being resolved (the reconciler, an order
 * update). It stays protected, quietly, for a claim's length: if the exit turns out never placed
 * and the tracker ACTIVE again, the rule fires again; if it filled, the next try answers ALREADY_EXITED.
 */
const RESOLVING = new Set([ExitStatus.OUTCOME_UNKNOWN, ExitStatus.AWAITING_FILL, ExitStatus.PENDING_RECONCILE]);

export class TriggerWorker {
  private readonly queue: Array<{ watched: WatchedTracker; trigger: ExitTrigger }> = [];
  private running = 0;
  private idle: Array<() => void> = [];
  /** Exits started and claims lost, for tests and metrics. */
  readonly counters = { started: 0, claimLost: 0, refused: 0 };

  constructor(
    private readonly deps: TriggerWorkerDeps,
    private readonly settings: TriggerWorkerSettings,
  ) {}

  /** Takes a trigger; false when the queue is full (nothing was taken). */
  submit(watched: WatchedTracker, trigger: ExitTrigger): boolean {
    if (this.queue.length >= this.settings.queued) {
      this.counters.refused++;
      return false;
    }
    this.queue.push({ watched, trigger });
    this.pump();
    return true;
  }

  /** Resolves once nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.running < this.settings.parallel && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running++;
      this.run(job.watched, job.trigger)
        .catch((error: unknown) => {
          this.deps.log.error({ err: error, orderNo: job.watched.tracker.orderNo }, "protective exit failed");
          this.deps.book().release(job.watched.tracker.orderNo, this.deps.clock.now() + this.settings.retryMs, undefined, job.watched);
        })
        .finally(() => {
          this.running--;
          this.pump();
          if (this.running === 0 && this.queue.length === 0) for (const resolve of this.idle.splice(0)) resolve();
        });
    }
  }

  private async run(watched: WatchedTracker, trigger: ExitTrigger): Promise<void> {
    const { tracker } = watched;
    const book = this.deps.book();
    const claim = `${trigger.planVersion}:${tracker.exitAttempt + 1}`;
    if (!(await this.deps.states.claimTrigger(tracker.orderNo, claim, this.settings.claimTtlMs))) {
      // Another process of the fleet starts this exit; look again only once its claim could have lapsed.
      this.counters.claimLost++;
      book.release(tracker.orderNo, this.deps.clock.now() + this.settings.claimTtlMs, undefined, watched);
      return;
    }
    this.counters.started++;
    const reason = describe(trigger);
    const outcome = await runTriggeredExit(this.deps, {
      orderNo: tracker.orderNo,
      reason,
      reasonCode: reasonCodeOf(trigger.rule),
      trigger,
    });
    this.settle(watched, outcome);
  }

  private settle(watched: WatchedTracker, outcome: ExitOutcome): void {
    const book = this.deps.book();
    const orderNo = watched.tracker.orderNo;
    if (SETTLED.has(outcome.status)) {
      // A plan replaced meanwhile is watched as a new entry, which stays.
      book.unwatch(orderNo, watched);
      return;
    }
    if (RESOLVING.has(outcome.status)) {
      book.release(orderNo, this.deps.clock.now() + this.settings.claimTtlMs, outcome.tracker, watched);
      return;
    }
    this.deps.log.warn(
      { orderNo, status: ExitStatus[outcome.status], message: outcome.message },
      "protective exit did not happen; armed again",
    );
    book.release(orderNo, this.deps.clock.now() + this.settings.retryMs, outcome.tracker, watched);
  }
}

/** The exit's free-text reason: which rule, at which level, by which tick. */
function describe(trigger: ExitTrigger): string {
  const rule = ProtectionRule[trigger.rule].toLowerCase().replace("_", " ");
  return trigger.level
    ? `${rule} at ${formatDecimal(trigger.level)} reached by a tick at ${formatDecimal(trigger.tickPrice)}`
    : `${rule} due at ${new Date(trigger.tickTimeMs).toISOString()}`;
}
