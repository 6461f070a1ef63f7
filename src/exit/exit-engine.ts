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
 * - The lock is released on every path, by its owner only.
 */
import { ExitReasonCode, ExitStatus, PriceSource, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { openQuantity, type TrackerRecord } from "../domain/tracker.js";
import { type ExitCommand, exitCommandProblem } from "./exit-command.js";
import { type ExitOutcome, exitOutcome } from "./exit-outcome.js";
import { EXIT_SPANS, NO_TRACE_PARENT, type TraceParent, annotateSpan, inSpan } from "./exit-tracing.js";
import { ExitRecorder } from "./exit-recorder.js";
import { ExitsInFlight } from "./exits-in-flight.js";
import { NO_EXIT_OBSERVER, type ExitObserver } from "./exit-observer.js";
import { RouterGateway } from "./router-gateway.js";
import { ExitSettlement } from "./exit-settlement.js";
import { IntentResumer } from "./intent-resumer.js";
import { FillWaiter } from "./fill-waiter.js";
import { OrderUpdateHandler } from "./order-update-handler.js";
import { OrderUpdateSignals } from "./order-update-signals.js";
import type {
  Clock,
  ExitEventSink,
  ExitLock,
  ExitLog,
  ExitOrderRequest,
  LockLease,
  LtpQuote,
  LtpResolver,
  OrderRouter,
  OrderUpdateSink,
  SupersededAttempts,
  TrackerStore,
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

  constructor(private readonly deps: ExitEngineDeps) {
    this.settings = { ...DEFAULT_EXIT_ENGINE_SETTINGS, ...deps.settings };
    this.recorder = new ExitRecorder(deps.store, deps.clock, deps.events, deps.log, this.settings);
    this.gateway = deps.router ? new RouterGateway(deps.router, deps.clock, this.settings) : undefined;
    const signals = deps.signals ?? new OrderUpdateSignals();
    const updates = deps.orderUpdates ?? new OrderUpdateHandler(deps.store, deps.clock, deps.events, { log: deps.log, signals });
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
   * The step spans are children of `parent`, which also gets order_no and exit.status.
   */
  async execute(command: ExitCommand, parent: TraceParent = NO_TRACE_PARENT): Promise<ExitOutcome> {
    annotateSpan(parent, { order_no: command.orderNo });
    const outcome = await this.observed("execute", () => this.inFlight.run(() => this.executeSteps(command, parent)));
    annotateSpan(parent, { "exit.status": ExitStatus[outcome.status] });
    return outcome;
  }

  /** Exits and intent resolutions running now. */
  get exitsInFlight(): number {
    return this.inFlight.size;
  }

  /** Resolves once no exit or intent resolution is running; shutdown waits on it after it stops accepting new ones. */
  whenIdle(): Promise<void> {
    return this.inFlight.whenIdle();
  }

  /**
   * Resolves an EXITING tracker's intent under the lock, without starting a
   * new exit unless the broker never received the old one. The reconciler's
   * entry point; an ExecuteExit on an EXITING tracker takes the same path.
   */
  async resolveIntent(orderNo: string, parent: TraceParent = NO_TRACE_PARENT): Promise<ExitOutcome> {
    const command: ExitCommand = { orderNo, reason: "reconciled", reasonCode: ExitReasonCode.RECONCILED };
    if (!this.gateway) return exitOutcome(ExitStatus.ROUTER_UNAVAILABLE, { message: "no order router is configured" });
    return this.observed("resolve", () =>
      this.inFlight.run(() =>
        this.underLock(command, parent, async (lease) => {
          const tracker = await this.deps.store.get(orderNo);
          if (!tracker) return exitOutcome(ExitStatus.TRACKER_NOT_FOUND, { message: `no tracker ${orderNo}` });
          if (tracker.status !== TrackerStatus.EXITING) return this.answerForSettled(tracker);
          // No fill wait here: the reconciler looks again next pass, and must not sit on one order.
          const resumed = { ...command, reason: tracker.exitReason, reasonCode: tracker.exitReasonCode, answerByMs: this.deps.clock.now() };
          return this.resume(tracker, resumed, lease, parent);
        }),
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
    const problem = await inSpan(parent, EXIT_SPANS.validate, () => this.validate(command));
    if (problem) return problem;
    return this.underLock(command, parent, async (lease) => {
      const tracker = await inSpan(parent, EXIT_SPANS.trackerLoad, () => this.deps.store.get(command.orderNo));
      if (!tracker) return exitOutcome(ExitStatus.TRACKER_NOT_FOUND, { message: `no tracker ${command.orderNo}` });
      if (tracker.status === TrackerStatus.EXITING) return this.resume(tracker, command, lease, parent);
      if (tracker.status !== TrackerStatus.ACTIVE) return this.answerForSettled(tracker);
      return this.exitActive(tracker, command, lease, parent);
    });
  }

  private validate(command: ExitCommand): ExitOutcome | undefined {
    const problem = exitCommandProblem(command);
    if (problem) return exitOutcome(ExitStatus.INVALID_REQUEST, { message: problem });
    const availability = this.deps.router?.availability() ?? { available: false, reason: "no order router is configured" };
    if (!availability.available) return exitOutcome(ExitStatus.ROUTER_UNAVAILABLE, { message: availability.reason });
    return undefined;
  }

  private async underLock(
    command: ExitCommand,
    parent: TraceParent,
    work: (lease: LockLease) => Promise<ExitOutcome>,
  ): Promise<ExitOutcome> {
    const resource = exitLockResource(command.orderNo);
    const acquisition = await inSpan(parent, EXIT_SPANS.lockAcquire, async (span) => {
      const result = await this.deps.lock.acquire(resource, this.settings.lockTtlMs);
      span.setAttributes({
        "lock.attempts": result.kind === "acquired" ? result.lease.attempts : result.attempts,
        "lock.result": result.kind,
      });
      return result;
    });
    if (acquisition.kind === "busy") {
      return exitOutcome(ExitStatus.EXIT_IN_PROGRESS, { message: `another exit of ${command.orderNo} holds the lock` });
    }
    if (acquisition.kind === "unavailable") {
      return exitOutcome(ExitStatus.LOCK_UNAVAILABLE, { message: `exit lock unavailable: ${acquisition.message}` });
    }
    const lease = acquisition.lease;
    try {
      return await work(lease);
    } finally {
      await inSpan(parent, EXIT_SPANS.lockRelease, async (span) => {
        const status = await this.deps.lock.release(lease).catch((error: unknown) => {
          this.deps.log.warn({ err: error, resource }, "exit lock release failed; it expires by its TTL");
          return "failed" as const;
        });
        span.setAttribute("lock.release", status);
        if (status !== "released") this.deps.log.warn({ resource, status }, "exit lock was not held at release");
      });
    }
  }

  /** The answer for a tracker that is neither ACTIVE nor EXITING: nothing to send. */
  private answerForSettled(tracker: TrackerRecord): ExitOutcome {
    if (tracker.status === TrackerStatus.EXITED) {
      return exitOutcome(ExitStatus.ALREADY_EXITED, { tracker, exitPrice: tracker.exitPrice, message: "tracker was already exited" });
    }
    if (tracker.status === TrackerStatus.ACTIVE) {
      return exitOutcome(ExitStatus.NOT_ACTIVE, { tracker, message: "tracker has no exit intent to resolve" });
    }
    return exitOutcome(ExitStatus.NOT_ACTIVE, { tracker, message: `tracker is ${TrackerStatus[tracker.status]}, not ACTIVE` });
  }

  private async exitActive(tracker: TrackerRecord, command: ExitCommand, lease: LockLease, parent: TraceParent): Promise<ExitOutcome> {
    const quote = await inSpan(parent, EXIT_SPANS.ltpLookup, (span) => this.lookUpLtp(tracker, span));
    if (lease.lost) return this.lockLost(tracker, "before the intent was stored");
    // Nothing is sent after this, whatever happens to this process: another one may conclude "never placed" after it.
    const sendDeadlineMs = Math.floor(Math.min(lease.validUntilMs, this.deps.clock.now() + this.settings.routerTimeoutMs));
    const intent = await inSpan(parent, EXIT_SPANS.intentPersist, () =>
      this.recorder.persistIntent(tracker, command, lease, quote, sendDeadlineMs),
    );
    if (intent.kind === "refused") return intent.outcome;
    if (lease.lost) return this.lockLost(intent.tracker, "before the router was called; the intent is left for the reconciler");
    const routed = await inSpan(parent, EXIT_SPANS.routerCall, async (span) => {
      const result = await this.gateway!.place(this.exitOrderOf(intent.tracker, quote, sendDeadlineMs), lease);
      span.setAttributes({ "router.outcome": result.outcome.kind, "router.attempts": result.attempts });
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

  private async lookUpLtp(
    tracker: TrackerRecord,
    span?: { setAttributes(a: Record<string, string | number | boolean>): void },
  ): Promise<LtpQuote> {
    const quote = await this.deps.ltp.resolve({ segment: tracker.segment, securityId: tracker.securityId });
    span?.setAttributes({ "ltp.source": PriceSource[quote.source], "ltp.age_ms": quote.ageMs, "ltp.stale": quote.stale });
    return quote;
  }

  private exitOrderOf(intent: TrackerRecord, quote: LtpQuote, sendDeadlineMs: number): ExitOrderRequest {
    return {
      sendDeadlineMs,
      correlationId: intent.exitCorrelationId,
      orderNo: intent.orderNo,
      segment: intent.segment,
      securityId: intent.securityId,
      symbol: intent.symbol,
      transactionType: intent.side === Side.SHORT ? ("BUY" as const) : ("SELL" as const),
      quantity: openQuantity(intent),
      paper: intent.paper,
      ...(quote.price ? { referencePrice: quote.price } : {}),
    };
  }

  private lockLost(tracker: TrackerRecord, when: string): ExitOutcome {
    this.deps.log.warn({ orderNo: tracker.orderNo }, `exit lock lost ${when}`);
    return exitOutcome(ExitStatus.EXIT_IN_PROGRESS, { tracker, message: `exit lock lost ${when}` });
  }
}
