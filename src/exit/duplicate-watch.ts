/**
 * The reconciler's duplicate check: the correlation ids of superseded exit
 * attempts (concluded "never placed", then replaced) are looked up at the
 * broker every pass until their window ends. An order found for one is a
 * second order for the position: it is reported loudly (an error log, a
 * DUPLICATE_ORDER event, the `duplicates` count) and what it traded is
 * added to the tracker's `overExitedQuantity`. Nothing is compensated
 * automatically: an operator decides.
 *
 * Idempotent: the traded quantity already recorded for an attempt is kept
 * with it, so each pass adds only what traded since.
 */
import { BrokerOrderStatus, ExitEventKind } from "../../gen/tradingcore/v1/exit_pb.js";
import { ExitStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { Money, ZERO } from "../domain/money.js";
import type { Clock, ExitEventSink, ExitLog, OrderRouter, SupersededAttempt, SupersededAttempts, TrackerStore } from "./ports.js";
import type { ReconcilerCounters } from "./reconciler-counters.js";

export interface DuplicateWatchDeps {
  readonly router: Pick<OrderRouter, "findOrder">;
  readonly superseded: SupersededAttempts;
  readonly store: Pick<TrackerStore, "get" | "compareAndSet">;
  readonly clock: Clock;
  readonly events: ExitEventSink;
  readonly log: ExitLog;
}

const MAX_RACES = 5;
const LIVE = new Set([BrokerOrderStatus.TRANSIT, BrokerOrderStatus.PENDING, BrokerOrderStatus.PART_TRADED]);

export class DuplicateWatch {
  constructor(private readonly deps: DuplicateWatchDeps) {}

  /** One look-up per watched attempt; failures are counted and tried again next pass. */
  async pass(tally: ReconcilerCounters, stopping: () => boolean): Promise<void> {
    const now = this.deps.clock.now();
    for (const attempt of await this.deps.superseded.all()) {
      if (stopping()) return;
      try {
        const order = await this.deps.router.findOrder(attempt.correlationId);
        if (order) await this.found(attempt, order.tradedQuantity, LIVE.has(order.status), order.orderId, tally);
        else if (now >= attempt.untilMs) await this.deps.superseded.forget(attempt.correlationId);
      } catch (error) {
        tally.failures++;
        this.deps.log.error(
          { orderNo: attempt.orderNo, correlationId: attempt.correlationId, err: error },
          "duplicate check of a superseded exit attempt failed",
        );
      }
    }
  }

  private async found(attempt: SupersededAttempt, traded: Money, live: boolean, orderId: string, tally: ReconcilerCounters): Promise<void> {
    const recorded = new Money(attempt.recordedTraded);
    const added = traded.minus(recorded);
    const first = attempt.reported !== true;
    if (added.greaterThan(0)) await this.addOverExited(attempt.orderNo, added);
    if (first || added.greaterThan(0)) {
      tally.duplicates++;
      const message =
        `DUPLICATE exit order ${orderId} found for superseded attempt ${attempt.correlationId} of ${attempt.orderNo}: ` +
        `${traded.toFixed()} traded${live ? ", still live" : ""}; the position may be over-exited; no automatic compensation, check the broker`;
      this.deps.log.error(
        { orderNo: attempt.orderNo, correlationId: attempt.correlationId, orderId, traded: traded.toFixed(), live },
        message,
      );
      const tracker = await this.deps.store.get(attempt.orderNo);
      if (tracker) {
        this.deps.events.publish({
          kind: ExitEventKind.DUPLICATE_ORDER,
          tracker,
          status: ExitStatus.UNSPECIFIED,
          correlationId: attempt.correlationId,
          timeMs: this.deps.clock.now(),
          message,
        });
      }
    }
    // A live duplicate is followed until it ends; then it is forgotten, its traded quantity recorded.
    if (live) await this.deps.superseded.watch({ ...attempt, recordedTraded: traded.toFixed(), reported: true });
    else await this.deps.superseded.forget(attempt.correlationId);
  }

  private async addOverExited(orderNo: string, added: Money): Promise<void> {
    for (let race = 0; race < MAX_RACES; race++) {
      const tracker = await this.deps.store.get(orderNo);
      if (!tracker) return;
      const next = { ...tracker, overExitedQuantity: (tracker.overExitedQuantity ?? ZERO).plus(added), updatedAt: this.deps.clock.now() };
      if ((await this.deps.store.compareAndSet(next, tracker.version)).kind === "written") return;
    }
    throw new Error(`tracker ${orderNo} kept changing; its over-exited quantity is recorded next pass`);
  }
}
