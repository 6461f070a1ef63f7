/**
 * The exit flow of DESIGN section 3, read top-down: validate, lock, load,
 * price, persist intent, route, update, release.
 *
 * Invariants:
 * - No order is sent before its intent (EXITING + correlation id) is stored.
 * - A tracker that is EXITING is never sent a second order for the same
 *   attempt; its intent is resolved by looking the order up.
 * - No order is written after its send deadline (the earlier of the lease's
 *   validity and the router timeout, stored on the intent); "never placed"
 *   is concluded only after that deadline plus `sendDeadlineMarginMs` (and
 *   `unknownOrderGraceMs` after the intent), when the broker still does not
 *   know the order. The superseded attempt is then watched for duplicates.
 * - EXITED only once the broker reports fills for the whole open quantity;
 *   an accepted order not filled within the fill wait answers AWAITING_FILL.
 * - Every business outcome is returned as an ExitStatus, never thrown; only
 *   a store outage before the intent throws (nothing was sent then).
 * - With replicas to confirm (WriteConfirmation), no order is sent before its
 *   intent is confirmed, and no EXITED or ALREADY_EXITED is answered before
 *   the EXITED write is: unconfirmed, they answer EXIT_IN_PROGRESS (nothing
 *   sent) and PENDING_RECONCILE, never a success a failover may take back.
 * - The lock is released on every path, by its owner only, after the answer.
 * - An exit started by a plan's trigger goes ahead only while the tracker's
 *   plan is the version the trigger was evaluated under.
 * - The tracker is loaded beside the lock acquisition; what is decided on that
 *   read is either an answer only (true when it was read, during the call) or
 *   guarded: an ACTIVE read by the intent's compare-and-set on its version
 *   (stale → decided again on what is stored), an EXITING one by a reload
 *   under the lock.
 */
import { ExitReasonCode, ExitStatus, PriceSource, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { TrackerRecord } from "../domain/tracker.js";
import { type ExitCommand, exitCommandProblem } from "./exit-command.js";
import { type ExitOutcome, exitOutcome } from "./exit-outcome.js";
import { EXIT_SPANS, NO_TRACE_PARENT, type TraceParent, annotate, annotateSpan, inSpan } from "./exit-tracing.js";
import { ExitRecorder } from "./exit-recorder.js";
import { ExitsInFlight } from "./exits-in-flight.js";
import { ExitLockScope } from "./exit-lock-scope.js";
import { answerForSettled, answerWhileBusy } from "./stored-truth.js";
import { NO_EXIT_OBSERVER, type ExitObserver } from "./exit-observer.js";
import { RouterGateway, exitOrderOf } from "./router-gateway.js";
import type { LookupAlarmReason } from "./lookup-alarms.js";
import { ExitSettlement } from "./exit-settlement.js";
import { IntentResumer } from "./intent-resumer.js";
import { FillWaiter } from "./fill-waiter.js";
import { ReplicaConfirmedAnswers } from "./replica-confirmed-answers.js";
import { OrderUpdateHandler } from "./order-update-handler.js";
import { OrderUpdateSignals } from "./order-update-signals.js";
import { WritesInDoubt } from "./writes-in-doubt.js";
import type {
  Clock,
  ExitEventSink,
  ExitLock,
  ExitLog,
  LockLease,
  LtpQuote,
  LtpResolver,
  OrderRouter,
  OrderUpdateSink,
  SupersededAttempts,
  TrackerStore,
  WriteConfirmation,
} from "./ports.js";

export interface ExitEngineSettings {
  /** Exit lock TTL in ms; the lock is extended automatically while the exit runs. */
  readonly lockTtlMs: number;
  /** How long one router call may take before its outcome counts as unknown, ms. */
  readonly routerTimeoutMs: number;
  /** Retries of a router call that definitely placed nothing (rate limited). */
  readonly notPlacedRetries: number;
  readonly notPlacedBackoffMs: number;
  /** Retries of the EXITING → EXITED write after an accepted order. */
  readonly trackerUpdateRetries: number;
  readonly trackerUpdateBackoffMs: number;
  /** After this many ms, an intent whose order the broker does not know was never placed. */
  readonly unknownOrderGraceMs: number;
  /** Margin past an intent's send deadline (clock drift between processes, transit) before "never placed", ms. */
  readonly sendDeadlineMarginMs: number;
  /** Longest wait of an ExecuteExit for an accepted order's fill (also bounded by the caller's deadline), ms. */
  readonly fillWaitMs: number;
  /** Pause between look-ups of an order while its fill is waited for, ms. */
  readonly fillPollIntervalMs: number;
  /** How long a superseded attempt's correlation id is still looked up for a duplicate order, ms. */
  readonly duplicateWatchMs: number;
}

export const DEFAULT_EXIT_ENGINE_SETTINGS: ExitEngineSettings = {
  lockTtlMs: 10_000,
  routerTimeoutMs: 5_000,
  notPlacedRetries: 3,
  notPlacedBackoffMs: 100,
  trackerUpdateRetries: 3,
  trackerUpdateBackoffMs: 50,
  unknownOrderGraceMs: 30_000,
  sendDeadlineMarginMs: 2_000,
  fillWaitMs: 3_000,
  fillPollIntervalMs: 250,
  duplicateWatchMs: 3_600_000,
};

/** An answer is given this long before the caller's own deadline, ms: the wait for a fill ends earlier. */
const ANSWER_MARGIN_MS = 100;

export interface ExitEngineDeps {
  readonly store: TrackerStore;
  readonly lock: ExitLock;
  readonly ltp: LtpResolver;
  /** Absent when no router is configured: every exit answers ROUTER_UNAVAILABLE. */
  readonly router?: OrderRouter;
  readonly clock: Clock;
  readonly events: ExitEventSink;
  readonly log: ExitLog;
  readonly settings?: Partial<ExitEngineSettings>;
  /** Told when each exit starts and ends (metrics); nothing when absent. */
  readonly observer?: ExitObserver;
  /** The order update path (OrderUpdateHandler) that look-ups feed; a private one on `store` when absent. */
  readonly orderUpdates?: OrderUpdateSink;
  /** Wakes exits waiting for a fill; must be the one `orderUpdates` notifies. */
  readonly signals?: OrderUpdateSignals;
  /** Where superseded attempts are recorded for the reconciler's duplicate check; none when absent. */
  readonly superseded?: SupersededAttempts;
  /** Confirms the store's writes reached its replicas (Redis WAIT); every write counts as confirmed when absent. */
  readonly confirmation?: WriteConfirmation;
  /** Tracker writes whose reply was lost, shared with `orderUpdates`; a private one when absent. */
  readonly writesInDoubt?: WritesInDoubt;
}

/** The lock resource guarding exits of one tracker. */
export function exitLockResource(orderNo: string): string {
  return `lock:exit:${orderNo}`;
}

export class ExitEngine {
  private readonly settings: ExitEngineSettings;
  private readonly recorder: ExitRecorder;
  private readonly gateway: RouterGateway | undefined;
  private readonly settlement: ExitSettlement | undefined;
  private readonly resumer: IntentResumer | undefined;
  private readonly inFlight = new ExitsInFlight();
  private readonly locks: ExitLockScope;
  private readonly durable: ReplicaConfirmedAnswers;
  private readonly inDoubt: WritesInDoubt;

  constructor(private readonly deps: ExitEngineDeps) {
    this.settings = { ...DEFAULT_EXIT_ENGINE_SETTINGS, ...deps.settings };
    this.locks = new ExitLockScope(deps.lock, deps.log, this.settings.lockTtlMs);
    this.durable = new ReplicaConfirmedAnswers(deps.confirmation, deps.log);
    this.inDoubt = deps.writesInDoubt ?? new WritesInDoubt(deps.store, deps.events, deps.clock, deps.log);
    this.recorder = new ExitRecorder(deps.store, deps.clock, deps.events, deps.log, this.settings, this.inDoubt);
    this.gateway = deps.router ? new RouterGateway(deps.router, deps.clock, this.settings, deps.log) : undefined;
    const signals = deps.signals ?? new OrderUpdateSignals();
    const updates =
      deps.orderUpdates ??
      new OrderUpdateHandler(deps.store, deps.clock, deps.events, { log: deps.log, signals, writesInDoubt: this.inDoubt });
    if (this.gateway) {
      const waiter = new FillWaiter({
        store: deps.store,
        gateway: this.gateway,
        updates,
        signals,
        clock: deps.clock,
        log: deps.log,
        pollIntervalMs: this.settings.fillPollIntervalMs,
      });
      this.settlement = new ExitSettlement(this.recorder, waiter, deps.store);
      this.resumer = new IntentResumer({
        ...deps,
        gateway: this.gateway,
        settlement: this.settlement,
        recorder: this.recorder,
        settings: this.settings,
        lookUpLtp: (t) => this.lookUpLtp(t),
      });
    }
  }

  /**
   * Exits one position at most once. Resolves with the outcome; rejects only on a store outage before any order.
   * The step spans are children of `parent`, which also gets order_no, the LTP the exit priced on and exit.status.
   */
  async execute(command: ExitCommand, parent: TraceParent = NO_TRACE_PARENT): Promise<ExitOutcome> {
    annotateSpan(parent, () => ({ order_no: command.orderNo }));
    const outcome = await this.observed("execute", () =>
      this.inFlight.run(async () => this.durable.confirmedSuccess(await this.executeSteps(command, parent))),
    );
    annotateSpan(parent, () => ({ "exit.status": ExitStatus[outcome.status] }));
    return outcome;
  }

  /**
   * Reads the tracker of every write whose reply was lost and publishes the
   * event of each the store shows applied (writes-in-doubt.ts); the
   * reconciler's pass runs it. Answers how many were published; never throws.
   */
  settleWritesInDoubt(): Promise<number> {
    return this.inDoubt.settle();
  }

  /** Tracker writes whose reply was lost and that no read has settled yet. */
  get writesInDoubt(): number {
    return this.inDoubt.size;
  }

  /** Order look-up alarms raised since start, by reason (for the metric). */
  get lookupAlarms(): Readonly<Record<LookupAlarmReason, number>> {
    return this.gateway?.alarms.counts ?? { "unrecognised-status": 0, failing: 0 };
  }

  /** Exits and intent resolutions running now. */
  get exitsInFlight(): number {
    return this.inFlight.size;
  }

  /** Lock releases sent after an answer and not finished yet. */
  get lockReleasesInFlight(): number {
    return this.locks.pending;
  }

  /**
   * Resolves once no exit, intent resolution or lock release is running;
   * shutdown waits on it after it stops accepting new ones.
   */
  async whenIdle(): Promise<void> {
    await this.inFlight.whenIdle();
    // Every exit that ended has started its release by now.
    await this.locks.whenReleased();
  }

  /**
   * Resolves an EXITING tracker's intent under the lock, without starting a
   * new exit unless the broker never received the old one. The reconciler's
   * entry point; an ExecuteExit on an EXITING tracker takes the same path.
   */
  async resolveIntent(orderNo: string, parent: TraceParent = NO_TRACE_PARENT): Promise<ExitOutcome> {
    const command: ExitCommand = { orderNo, reason: "reconciled", reasonCode: ExitReasonCode.RECONCILED };
    if (!this.gateway) return exitOutcome(ExitStatus.ROUTER_UNAVAILABLE, { message: "no order router is configured" });
    const work = async (lease: LockLease) => {
      const tracker = await this.deps.store.get(orderNo);
      this.inDoubt.settleWith(orderNo, tracker);
      if (!tracker) return exitOutcome(ExitStatus.TRACKER_NOT_FOUND, { message: `no tracker ${orderNo}` });
      if (tracker.status !== TrackerStatus.EXITING) return answerForSettled(tracker);
      // No fill wait here: the reconciler looks again next pass, and must not sit on one order.
      const resumed = { ...command, reason: tracker.exitReason, reasonCode: tracker.exitReasonCode, answerByMs: this.deps.clock.now() };
      return this.resume(tracker, resumed, lease, parent);
    };
    return this.observed("resolve", () =>
      this.inFlight.run(async () =>
        this.durable.confirmedSuccess(await this.locks.run(exitLockResource(orderNo), parent, work, () => this.busyAnswer(orderNo))),
      ),
    );
  }

  /** Runs one exit or resolution, reporting its start and outcome to the observer. */
  private async observed(path: "execute" | "resolve", work: () => Promise<ExitOutcome>): Promise<ExitOutcome> {
    const finished = (this.deps.observer ?? NO_EXIT_OBSERVER).exitStarted(path);
    let outcome: ExitOutcome | undefined;
    try {
      outcome = await work();
      return outcome;
    } finally {
      finished(outcome);
    }
  }

  private async executeSteps(command: ExitCommand, parent: TraceParent): Promise<ExitOutcome> {
    const problem = this.validate(command);
    if (problem) return problem;
    // Beside the lock acquisition, not after it: one round trip fewer on the critical path.
    const loading = this.deps.store.get(command.orderNo);
    loading.catch(() => undefined); // awaited under the lock; nothing awaits it when the lock is not granted
    const work = async (lease: LockLease) => this.decide(await loading, command, lease, parent, false);
    return this.locks.run(exitLockResource(command.orderNo), parent, work, () => this.busyAnswer(command.orderNo, loading));
  }

  /** Step 3's decision on `tracker`; `underLock` tells whether it was read under the lock (else it may be stale). */
  private async decide(
    tracker: TrackerRecord | undefined,
    command: ExitCommand,
    lease: LockLease,
    parent: TraceParent,
    underLock: boolean,
  ): Promise<ExitOutcome> {
    // A lost write of this tracker that the read shows applied has its event published before any event of this call.
    this.inDoubt.settleWith(command.orderNo, tracker);
    if (!tracker) return exitOutcome(ExitStatus.TRACKER_NOT_FOUND, { message: `no tracker ${command.orderNo}` });
    if (tracker.status === TrackerStatus.EXITING) {
      if (!underLock) return this.decide(await this.deps.store.get(command.orderNo), command, lease, parent, true);
      return this.resume(tracker, command, lease, parent);
    }
    if (tracker.status !== TrackerStatus.ACTIVE) return answerForSettled(tracker);
    // A read before the lock may be stale, but the intent's compare-and-set on its version catches a plan changed since.
    if (command.trigger && tracker.exitPlan?.version !== command.trigger.planVersion)
      return planChanged(tracker, command.trigger.planVersion);
    const unwanted = command.unwantedBecause?.(tracker);
    if (unwanted !== undefined) {
      // Decided on what is stored under the lock only: a read taken before it may be stale either way.
      if (!underLock) return this.decide(await this.deps.store.get(command.orderNo), command, lease, parent, true);
      return exitOutcome(ExitStatus.NOT_ACTIVE, { tracker, message: `not exited: ${unwanted}` });
    }
    return this.exitActive(tracker, command, lease, parent, underLock);
  }

  /**
   * The truth for a call that found the lock held, read without it. A read
   * showing an exit running (ACTIVE, EXITING) is taken again: the holder may
   * have written EXITED since and be releasing.
   */
  private async busyAnswer(orderNo: string, loading?: Promise<TrackerRecord | undefined>): Promise<ExitOutcome> {
    const first = loading
      ? await loading.then(
          (tracker) => ({ tracker }),
          () => undefined,
        )
      : undefined;
    if (first && !(first.tracker && isExitable(first.tracker))) return answerWhileBusy(orderNo, first);
    const again = await this.deps.store.get(orderNo).then(
      (tracker) => ({ tracker }),
      (error: unknown) => ({ failed: error instanceof Error ? error.message : String(error) }),
    );
    return answerWhileBusy(orderNo, again);
  }

  private validate(command: ExitCommand): ExitOutcome | undefined {
    const problem = exitCommandProblem(command);
    if (problem) return exitOutcome(ExitStatus.INVALID_REQUEST, { message: problem });
    const availability = this.deps.router?.availability() ?? { available: false, reason: "no order router is configured" };
    if (!availability.available) return exitOutcome(ExitStatus.ROUTER_UNAVAILABLE, { message: availability.reason });
    return undefined;
  }

  private async exitActive(
    tracker: TrackerRecord,
    command: ExitCommand,
    lease: LockLease,
    parent: TraceParent,
    underLock = true,
  ): Promise<ExitOutcome> {
    const quote = await this.lookUpLtp(tracker);
    annotateSpan(parent, () => ({ "ltp.source": PriceSource[quote.source], "ltp.age_ms": quote.ageMs, "ltp.stale": quote.stale }));
    if (lease.lost) return this.lockLost(tracker, "before the intent was stored");
    // Nothing is sent after this, whatever happens to this process: another one may conclude "never placed" after it.
    const sendDeadlineMs = Math.floor(Math.min(lease.validUntilMs, this.deps.clock.now() + this.settings.routerTimeoutMs));
    const intent = await inSpan(parent, EXIT_SPANS.intentPersist, () =>
      this.recorder.persistIntent(tracker, command, lease, quote, sendDeadlineMs),
    );
    // A read taken before the lock was granted went stale: decide again on what is stored now, once.
    if (intent.kind === "stale" && !underLock) return this.decide(intent.current, command, lease, parent, true);
    if (intent.kind !== "stored") return intent.outcome;
    const unconfirmed = await this.durable.intentUnconfirmed(intent.tracker);
    if (unconfirmed) return unconfirmed;
    if (lease.lost) return this.lockLost(intent.tracker, "before the router was called; the intent is left for the reconciler");
    const routed = await inSpan(parent, EXIT_SPANS.routerCall, async (span) => {
      const result = await this.gateway!.place(exitOrderOf(intent.tracker, quote, sendDeadlineMs), lease);
      annotate(span, () => ({ "router.outcome": result.outcome.kind, "router.attempts": result.attempts }));
      return result;
    });
    return inSpan(parent, EXIT_SPANS.trackerUpdate, () =>
      this.settlement!.afterRouting(intent.tracker, routed, quote, lease, this.answerBy(command)),
    );
  }

  /** An EXITING tracker: find out what became of its order instead of sending another. */
  private resume(tracker: TrackerRecord, command: ExitCommand, lease: LockLease, parent: TraceParent): Promise<ExitOutcome> {
    if (!this.resumer)
      return Promise.resolve(
        exitOutcome(ExitStatus.ROUTER_UNAVAILABLE, { tracker, message: "no order router is configured to resolve the intent" }),
      );
    return this.resumer.resume(tracker, lease, parent, this.answerBy(command), (reverted) =>
      this.exitActive(reverted, command, lease, parent),
    );
  }

  /** Epoch ms until which this exit may wait for a fill: the fill wait, ended before the caller's own deadline. */
  private answerBy(command: ExitCommand): number {
    const waitUntil = this.deps.clock.now() + this.settings.fillWaitMs;
    return command.answerByMs === undefined ? waitUntil : Math.min(waitUntil, command.answerByMs - ANSWER_MARGIN_MS);
  }

  private lookUpLtp(tracker: TrackerRecord): Promise<LtpQuote> {
    return this.deps.ltp.resolve({ segment: tracker.segment, securityId: tracker.securityId });
  }

  private lockLost(tracker: TrackerRecord, when: string): ExitOutcome {
    this.deps.log.warn({ orderNo: tracker.orderNo }, `exit lock lost ${when}`);
    return exitOutcome(ExitStatus.EXIT_IN_PROGRESS, { tracker, message: `exit lock lost ${when}` });
  }
}

/** A trigger evaluated under a plan that was changed or removed since: nothing is sent. */
function planChanged(tracker: TrackerRecord, planVersion: number): ExitOutcome {
  return exitOutcome(ExitStatus.NOT_ACTIVE, {
    tracker,
    message: `the exit plan changed after the trigger was evaluated (plan version ${planVersion}, now ${tracker.exitPlan?.version ?? "none"}); nothing was sent`,
  });
}

/** ACTIVE or EXITING: an exit of it may be running. */
function isExitable(tracker: TrackerRecord): boolean {
  return tracker.status === TrackerStatus.ACTIVE || tracker.status === TrackerStatus.EXITING;
}
