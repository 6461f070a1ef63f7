/**
 * The exit flow of DESIGN section 3, read top-down: validate, lock, load,
 * price, persist intent, route, update, release.
 *
 * Invariants:
 * - No order is sent before its intent (EXITING + correlation id) is stored.
 * - A tracker that is EXITING is never sent a second order for the same
 *   attempt; its intent is resolved by looking the order up.
 * - Every business outcome is returned as an ExitStatus, never thrown; only
 *   a store outage before the intent throws (nothing was sent then).
 * - The lock is released on every path, by its owner only.
 */
import { ExitEventKind } from "../../gen/tradingcore/v1/exit_pb.js";
import { ExitReasonCode, ExitStatus, PriceSource, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { openQuantity, type TrackerRecord } from "../domain/tracker.js";
import { type ExitCommand, exitCommandProblem } from "./exit-command.js";
import { type ExitOutcome, exitOutcome } from "./exit-outcome.js";
import { EXIT_SPANS, NO_TRACE_PARENT, type TraceParent, annotateSpan, inSpan } from "./exit-tracing.js";
import { ExitRecorder } from "./exit-recorder.js";
import { ExitsInFlight } from "./exits-in-flight.js";
import { NO_EXIT_OBSERVER, type ExitObserver } from "./exit-observer.js";
import { RouterGateway, type RouteResult } from "./router-gateway.js";
import type { Clock, ExitEventSink, ExitLock, ExitLog, LockLease, LtpQuote, LtpResolver, OrderRouter, TrackerStore } from "./ports.js";

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
}

export const DEFAULT_EXIT_ENGINE_SETTINGS: ExitEngineSettings = {
  lockTtlMs: 10_000,
  routerTimeoutMs: 5_000,
  notPlacedRetries: 3,
  notPlacedBackoffMs: 100,
  trackerUpdateRetries: 3,
  trackerUpdateBackoffMs: 50,
  unknownOrderGraceMs: 30_000,
};

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
}

/** The lock resource guarding exits of one tracker. */
export function exitLockResource(orderNo: string): string {
  return `lock:exit:${orderNo}`;
}

export class ExitEngine {
  private readonly settings: ExitEngineSettings;
  private readonly recorder: ExitRecorder;
  private readonly gateway: RouterGateway | undefined;
  private readonly inFlight = new ExitsInFlight();

  constructor(private readonly deps: ExitEngineDeps) {
    this.settings = { ...DEFAULT_EXIT_ENGINE_SETTINGS, ...deps.settings };
    this.recorder = new ExitRecorder(deps.store, deps.clock, deps.events, deps.log, this.settings);
    this.gateway = deps.router ? new RouterGateway(deps.router, deps.clock, this.settings) : undefined;
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
    return this.observed("resolve", () => this.inFlight.run(() => this.underLock(command, parent, async (lease) => {
      const tracker = await this.deps.store.get(orderNo);
      if (!tracker) return exitOutcome(ExitStatus.TRACKER_NOT_FOUND, { message: `no tracker ${orderNo}` });
      if (tracker.status !== TrackerStatus.EXITING) return this.answerForSettled(tracker);
      return this.resume(tracker, { ...command, reason: tracker.exitReason, reasonCode: tracker.exitReasonCode }, lease, parent);
    })));
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

  private async underLock(command: ExitCommand, parent: TraceParent, work: (lease: LockLease) => Promise<ExitOutcome>): Promise<ExitOutcome> {
    const resource = exitLockResource(command.orderNo);
    const acquisition = await inSpan(parent, EXIT_SPANS.lockAcquire, async (span) => {
      const result = await this.deps.lock.acquire(resource, this.settings.lockTtlMs);
      span.setAttributes({ "lock.attempts": result.kind === "acquired" ? result.lease.attempts : result.attempts, "lock.result": result.kind });
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
    const intent = await inSpan(parent, EXIT_SPANS.intentPersist, () => this.recorder.persistIntent(tracker, command, lease));
    if (intent.kind === "refused") return intent.outcome;
    if (lease.lost) return this.lockLost(intent.tracker, "before the router was called; the intent is left for the reconciler");
    const routed = await inSpan(parent, EXIT_SPANS.routerCall, async (span) => {
      const result = await this.gateway!.place(this.exitOrderOf(intent.tracker, quote), lease);
      span.setAttributes({ "router.outcome": result.outcome.kind, "router.attempts": result.attempts });
      return result;
    });
    return this.settle(intent.tracker, routed, quote, lease, parent);
  }

  /** Step 6's answer applied to the tracker (step 7). */
  private async settle(intent: TrackerRecord, routed: RouteResult, quote: LtpQuote, lease: LockLease, parent: TraceParent): Promise<ExitOutcome> {
    const { outcome, attempts } = routed;
    const priced = { attempts, priceSource: quote.source, priceAgeMs: quote.ageMs, priceStale: quote.stale };
    switch (outcome.kind) {
      case "accepted":
        return inSpan(parent, EXIT_SPANS.trackerUpdate, () => this.recorder.markExited(intent, outcome, quote, lease, attempts));
      case "rejected":
      case "not-placed": {
        const status = outcome.kind === "rejected" ? ExitStatus.ROUTER_REJECTED : ExitStatus.ROUTER_UNAVAILABLE;
        this.recorder.emit(ExitEventKind.ROUTER_REJECTED, intent, outcome.message, status);
        const traded = outcome.kind === "rejected" ? outcome.traded : undefined;
        const reverted = await inSpan(parent, EXIT_SPANS.trackerUpdate, () => this.recorder.revertToActive(intent, lease, outcome.message, traded));
        return exitOutcome(status, { ...priced, tracker: reverted, correlationId: intent.exitCorrelationId, message: outcome.message });
      }
      case "unknown":
        this.recorder.emit(ExitEventKind.ROUTER_UNKNOWN, intent, outcome.message, ExitStatus.OUTCOME_UNKNOWN);
        return exitOutcome(ExitStatus.OUTCOME_UNKNOWN, {
          ...priced,
          tracker: intent,
          message: `${outcome.message}; the intent stays EXITING and is resolved by correlation id`,
        });
    }
  }

  /** An EXITING tracker: find out what became of its order instead of sending another. */
  private async resume(tracker: TrackerRecord, command: ExitCommand, lease: LockLease, parent: TraceParent): Promise<ExitOutcome> {
    const correlationId = tracker.exitCorrelationId;
    if (!this.gateway) return exitOutcome(ExitStatus.ROUTER_UNAVAILABLE, { tracker, message: "no order router is configured to resolve the intent" });
    const gateway = this.gateway;
    const found = await inSpan(parent, EXIT_SPANS.routerLookup, () => gateway.find(correlationId));
    if (found.kind === "lookup-failed") {
      return exitOutcome(ExitStatus.EXIT_IN_PROGRESS, { tracker, message: `intent ${correlationId} is unresolved: ${found.message}` });
    }
    if (found.kind === "absent") {
      const ageMs = this.deps.clock.now() - (tracker.exitRequestedAt ?? 0);
      if (ageMs < this.settings.unknownOrderGraceMs) {
        return exitOutcome(ExitStatus.EXIT_IN_PROGRESS, {
          tracker,
          message: `intent ${correlationId} is being resolved: the broker does not know the order yet`,
        });
      }
      const reverted = await this.recorder.revertToActive(tracker, lease, `the broker never received order ${correlationId}`);
      if (reverted.status !== TrackerStatus.ACTIVE) return this.lockLost(reverted, "while reverting a never-placed intent");
      return this.exitActive(reverted, command, lease, parent);
    }
    const quote = found.outcome.kind === "accepted" && found.outcome.fill ? fillQuote(found.outcome.fill.price) : await this.lookUpLtp(tracker);
    return this.settle(tracker, { outcome: found.outcome, attempts: 0 }, quote, lease, parent);
  }

  private async lookUpLtp(tracker: TrackerRecord, span?: { setAttributes(a: Record<string, string | number | boolean>): void }): Promise<LtpQuote> {
    const quote = await this.deps.ltp.resolve({ segment: tracker.segment, securityId: tracker.securityId });
    span?.setAttributes({ "ltp.source": PriceSource[quote.source], "ltp.age_ms": quote.ageMs, "ltp.stale": quote.stale });
    return quote;
  }

  private exitOrderOf(intent: TrackerRecord, quote: LtpQuote) {
    return {
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

function fillQuote(price: LtpQuote["price"]): LtpQuote {
  return { found: true, price, source: PriceSource.FILL, ageMs: 0, stale: false };
}
