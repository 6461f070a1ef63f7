/**
 * The reconciler (DESIGN section 3; seed improvement 3, option 2): the
 * background worker that brings every exit intent to a true, final state.
 *
 * Each pass:
 * 0. settles the tracker writes whose reply was lost (writes-in-doubt.ts):
 *    the event of each the store shows applied is published, once;
 * 1. re-applies parked order updates whose tracker may have appeared since;
 * 2. resolves every EXITING intent older than `graceMs` through
 *    `engine.resolveIntent` (the exit lock, then the broker's order by
 *    correlation id): traded → EXITED with the fill price; refused (rejected,
 *    cancelled, expired), maybe after a partial fill → ACTIVE with the traded
 *    part recorded; unknown to the broker once the intent's send deadline
 *    plus the drift margin (and the unknown-order grace) have passed → never
 *    placed, so the engine places the next attempt and the superseded one is
 *    watched for duplicates (step 4).
 *    An order still live (AWAITING_FILL) stays EXITING and is looked up
 *    again every pass until it ends: TRADED → EXITED at the fill; REJECTED,
 *    CANCELLED, EXPIRED (also after a partial fill) → ACTIVE with the
 *    residual, owed a retry. One still live `overdueAfterMs` after its
 *    intent is reported once (error log, ORDER_OVERDUE event, `overdue`).
 * 3. retries the exits it owes: trackers it reverted to ACTIVE, and those the
 *    broker refused after the engine had answered for them (`owe`: an order
 *    update refusing an order left AWAITING_FILL). Each retry is a new
 *    attempt for the open quantity only.
 * 4. looks up the correlation ids of superseded attempts (duplicate-watch.ts)
 *    until their window ends: an order found for one is a duplicate, reported
 *    and recorded as over-exited quantity, never compensated automatically.
 *
 * Invariants:
 * - It never sends an order itself and never re-places one blindly: every
 *   step goes through the engine under the tracker's exit lock.
 * - EXITED only at a broker-reported fill of the whole quantity; nothing it
 *   does leaves a tracker EXITING for good: every live order is followed.
 * - "Never placed" is never concluded while some process may still write
 *   the order: only after the send deadline stored on the intent plus the
 *   margin, on this process's clock, with the broker still not knowing it.
 * - A duplicate (an order found for a superseded attempt) is reported and
 *   recorded, never compensated: an operator decides.
 * - A refused exit goes back to ACTIVE, never CANCELLED: the open position
 *   stays visible. After `retryBudget` retries it is reported (an error log
 *   and a RECONCILED event with ROUTER_REJECTED) and left ACTIVE.
 * - Idempotent: a pass over intents whose broker orders did not change
 *   changes nothing. Passes never overlap; `stop` waits for the running one.
 * - Owed retries (owed-exit-retries.ts) and watched superseded attempts
 *   survive a restart when their stores are durable (Redis).
 */
import { ExitEventKind } from "../../gen/tradingcore/v1/exit_pb.js";
import { ExitStatus, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { TrackerRecord } from "../domain/tracker.js";
import type { ExitEngine } from "./exit-engine.js";
import type { ExitOutcome } from "./exit-outcome.js";
import { BATCH_SPANS, type TraceParent, NO_TRACE_PARENT, annotate, inParentSpan } from "./exit-tracing.js";
import { type ReconcilerCounters, addInto, classifyResolution, countResolution, emptyCounters, hasWork } from "./reconciler-counters.js";
import type { Clock, ExitEventSink, ExitLog, OrderRouter, OwedExits, SupersededAttempts, TrackerStore } from "./ports.js";
import { DuplicateWatch } from "./duplicate-watch.js";
import { OwedExitRetries } from "./owed-exit-retries.js";

export interface ReconcilerSettings {
  /** An EXITING intent younger than this is left to the exit that made it, ms. */
  readonly graceMs: number;
  /** Pause between the end of one pass and the start of the next, ms. */
  readonly intervalMs: number;
  /** Retries of a refused exit before it is reported and left ACTIVE. */
  readonly retryBudget: number;
  /** Trackers read per store page. */
  readonly pageSize: number;
  /** A live exit order this long after its intent is reported as overdue (and still followed), ms. */
  readonly overdueAfterMs: number;
}

export const DEFAULT_RECONCILER_SETTINGS: ReconcilerSettings = {
  graceMs: 10_000,
  intervalMs: 5_000,
  retryBudget: 3,
  pageSize: 200,
  overdueAfterMs: 300_000,
};

/** Order updates that arrived before their tracker; re-applied every pass. */
export interface ParkedOrderUpdates {
  /** Applies the parked updates whose tracker now exists; answers how many were applied. */
  retryParked(): Promise<number>;
}

export interface ReconcilerDeps {
  readonly engine: Pick<ExitEngine, "resolveIntent" | "execute" | "settleWritesInDoubt">;
  readonly store: Pick<TrackerStore, "list" | "get" | "compareAndSet">;
  /** Looks superseded attempts up for duplicates (with `superseded`); no duplicate check when absent. */
  readonly router?: Pick<OrderRouter, "findOrder">;
  readonly superseded?: SupersededAttempts;
  readonly clock: Clock;
  readonly events: ExitEventSink;
  readonly log: ExitLog;
  readonly parkedUpdates?: ParkedOrderUpdates;
  /** Where owed retries are kept across restarts; in memory only when absent. */
  readonly owedExits?: OwedExits;
  readonly settings?: Partial<ReconcilerSettings>;
}

export interface PassOptions {
  /** Resolve every EXITING intent, however young: at start-up, before serving, nothing of this process is in flight. */
  readonly ignoreGrace?: boolean;
}

export class Reconciler {
  readonly settings: ReconcilerSettings;
  private readonly totals = emptyCounters();
  private readonly owed: OwedExitRetries;
  private running: Promise<ReconcilerCounters> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Correlation ids already reported overdue by this process. */
  private readonly reportedOverdue = new Set<string>();
  private readonly duplicates: DuplicateWatch | undefined;

  constructor(private readonly deps: ReconcilerDeps) {
    this.settings = { ...DEFAULT_RECONCILER_SETTINGS, ...deps.settings };
    this.owed = new OwedExitRetries({
      ...deps,
      retryBudget: this.settings.retryBudget,
      report: (tracker, status, message) => this.report(tracker, status, message),
    });
    this.duplicates =
      deps.router && deps.superseded
        ? new DuplicateWatch({
            router: deps.router,
            superseded: deps.superseded,
            store: deps.store,
            clock: deps.clock,
            events: deps.events,
            log: deps.log,
          })
        : undefined;
  }

  /** Totals since start, per action; live, for logs and metrics. */
  get counters(): Readonly<ReconcilerCounters> {
    return this.totals;
  }

  /** Exits owed a retry now. */
  get owedRetries(): number {
    return this.owed.size;
  }

  /** One pass; answers that pass's counts. A call during a running pass joins it. */
  runOnce(options: PassOptions = {}): Promise<ReconcilerCounters> {
    if (this.running) return this.running;
    const pass = this.pass(options).finally(() => (this.running = undefined));
    this.running = pass;
    return pass;
  }

  /** Runs a pass every `intervalMs` (after the previous one ended) until `stop`. */
  start(): void {
    if (this.timer || this.stopping) return;
    const schedule = () => {
      this.timer = setTimeout(async () => {
        await this.runOnce();
        if (!this.stopping) schedule();
      }, this.settings.intervalMs);
      this.timer.unref();
    };
    schedule();
  }

  /** Stops scheduling and waits for the running pass, which starts no new resolution or retry. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Records that the exit of `orderNo` was refused after the system answered for it: retry it within the budget. */
  owe(orderNo: string): void {
    this.owed.owe(orderNo);
  }

  private pass(options: PassOptions): Promise<ReconcilerCounters> {
    return inParentSpan(NO_TRACE_PARENT, BATCH_SPANS.reconcilerPass, async (span, pass) => {
      const tally = await this.passSteps(options, pass);
      annotate(span, () => ({
        "reconciler.examined": tally.examined,
        "reconciler.exited": tally.exited,
        "reconciler.failures": tally.failures,
      }));
      return tally;
    });
  }

  private async passSteps(options: PassOptions, pass: TraceParent): Promise<ReconcilerCounters> {
    const tally = emptyCounters();
    tally.passes = 1;
    await this.owed.load(tally);
    tally.writesSettled = await this.deps.engine.settleWritesInDoubt();
    await this.applyParked(tally);
    await this.resolveIntents(tally, options.ignoreGrace ? Infinity : this.deps.clock.now() - this.settings.graceMs, pass);
    await this.owed.retryAll(tally, pass, () => this.stopping);
    await this.checkDuplicates(tally);
    addInto(this.totals, tally);
    if (hasWork(tally)) this.deps.log.info({ reconciler: { ...tally }, owedRetries: this.owed.size }, "reconciler pass");
    return tally;
  }

  private async applyParked(tally: ReconcilerCounters): Promise<void> {
    if (!this.deps.parkedUpdates) return;
    try {
      tally.parkedApplied += await this.deps.parkedUpdates.retryParked();
    } catch (error) {
      tally.failures++;
      this.deps.log.error({ err: error }, "reconciler could not re-apply parked order updates");
    }
  }

  /** Step 2: every EXITING intent requested at or before `cutoffMs`. */
  private async resolveIntents(tally: ReconcilerCounters, cutoffMs: number, pass: TraceParent): Promise<void> {
    let after: string | undefined;
    try {
      do {
        const page = await this.deps.store.list(
          { status: TrackerStatus.EXITING },
          { ...(after ? { after } : {}), limit: this.settings.pageSize },
        );
        for (const tracker of page.trackers) {
          if (this.stopping) return;
          if (cutoffMs !== Infinity && (tracker.exitRequestedAt ?? 0) > cutoffMs) continue;
          await this.resolveOne(tracker, tally, pass);
        }
        after = page.nextCursor;
      } while (after && !this.stopping);
    } catch (error) {
      tally.failures++;
      this.deps.log.error({ err: error }, "reconciler could not list exit intents; the next pass tries again");
    }
  }

  private async resolveOne(listed: TrackerRecord, tally: ReconcilerCounters, pass: TraceParent): Promise<void> {
    tally.examined++;
    let outcome: ExitOutcome;
    try {
      outcome = await inParentSpan(
        pass,
        BATCH_SPANS.reconcilerResolve,
        async (span, resolve) => {
          const resolved = await this.deps.engine.resolveIntent(listed.orderNo, resolve);
          span.setAttribute("exit.status", ExitStatus[resolved.status] ?? String(resolved.status));
          return resolved;
        },
        { order_no: listed.orderNo },
      );
    } catch (error) {
      tally.failures++;
      this.deps.log.error({ orderNo: listed.orderNo, err: error }, "reconciler could not resolve an exit intent");
      return;
    }
    const action = classifyResolution(listed, outcome);
    countResolution(tally, action, outcome);
    if (action === "awaiting-fill") return this.checkOverdue(outcome.tracker ?? listed, tally);
    this.reportedOverdue.delete(listed.exitCorrelationId);
    if (outcome.tracker?.status === TrackerStatus.ACTIVE && action !== "settled-elsewhere") this.owe(listed.orderNo);
    if (action === "exited") this.owed.settle(listed.orderNo);
    if (action !== "unresolved" && action !== "settled-elsewhere") {
      this.report(outcome.tracker ?? listed, outcome.status, `reconciled (${action}): ${outcome.message}`);
    }
  }

  /** A live order past `overdueAfterMs`: reported once, still followed every pass. */
  private checkOverdue(tracker: TrackerRecord, tally: ReconcilerCounters): void {
    const ageMs = this.deps.clock.now() - (tracker.exitRequestedAt ?? 0);
    if (ageMs < this.settings.overdueAfterMs || this.reportedOverdue.has(tracker.exitCorrelationId)) return;
    this.reportedOverdue.add(tracker.exitCorrelationId);
    tally.overdue++;
    const message = `exit order ${tracker.exitOrderId || tracker.exitCorrelationId} of ${tracker.orderNo} is still live ${ageMs} ms after its intent; still followed`;
    this.deps.log.error(
      { orderNo: tracker.orderNo, correlationId: tracker.exitCorrelationId, orderId: tracker.exitOrderId, ageMs },
      message,
    );
    this.deps.events.publish({
      kind: ExitEventKind.ORDER_OVERDUE,
      tracker,
      status: ExitStatus.AWAITING_FILL,
      correlationId: tracker.exitCorrelationId,
      timeMs: this.deps.clock.now(),
      message,
    });
  }

  /** Step 4: superseded attempts looked up for duplicates. */
  private async checkDuplicates(tally: ReconcilerCounters): Promise<void> {
    if (!this.duplicates || this.stopping) return;
    try {
      await this.duplicates.pass(tally, () => this.stopping);
    } catch (error) {
      tally.failures++;
      this.deps.log.error({ err: error }, "reconciler could not read the superseded exit attempts; the next pass tries again");
    }
  }

  private report(tracker: TrackerRecord, status: ExitStatus, message: string): void {
    this.deps.events.publish({
      kind: ExitEventKind.RECONCILED,
      tracker,
      status,
      correlationId: tracker.exitCorrelationId,
      timeMs: this.deps.clock.now(),
      message,
    });
  }
}
