/**
 * Step 7's wait: an accepted exit order is followed until the broker reports
 * it filled or refused, or until a bound. What the broker reports (each
 * look-up by correlation id) goes through the order update path, the same as
 * ApplyOrderUpdate and a router's own feed, so one set of rules (order-update-
 * change.ts) decides every fill; the wait then reads the tracker back.
 * Between look-ups it sleeps on the injected Clock for `pollIntervalMs`, and
 * wakes early when an order update for the correlation id is applied here.
 *
 * Never sends an order and never writes a tracker itself.
 */
import { TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus } from "../../gen/tradingcore/v1/exit_pb.js";
import { attemptOrderQuantity } from "../domain/exit-fill.js";
import type { TrackerRecord } from "../domain/tracker.js";
import { updateFromBrokerOrder } from "./order-update-change.js";
import type { OrderUpdateSignals } from "./order-update-signals.js";
import type { BrokerOrder, Clock, ExitLog, OrderUpdateSink, TrackerStore } from "./ports.js";
import type { LookupResult, RouterGateway } from "./router-gateway.js";

export interface FillWaiterDeps {
  readonly store: Pick<TrackerStore, "get">;
  readonly gateway: Pick<RouterGateway, "find">;
  readonly updates: OrderUpdateSink;
  readonly signals: OrderUpdateSignals;
  readonly clock: Clock;
  readonly log: ExitLog;
  readonly pollIntervalMs: number;
}

export interface FillWait {
  /** The tracker as stored at the end of the wait. */
  readonly tracker: TrackerRecord;
  /** True when it is still EXITING at the same attempt: the order is live (or unknown) at the broker. */
  readonly live: boolean;
  /** The order as last looked up, when the broker knew it. */
  readonly order?: BrokerOrder;
  /** The last look-up failed: the broker's state is unknown, not live. */
  readonly lookupFailed?: string;
  /** The broker's answer is final (traded or refused) but the tracker update failed: the reconciler finishes it. */
  readonly unrecorded?: boolean;
}

/** Not final: neither a fill of the whole order nor a refusal of its rest. */
const LIVE = new Set([
  BrokerOrderStatus.TRANSIT,
  BrokerOrderStatus.PENDING,
  BrokerOrderStatus.PART_TRADED,
  BrokerOrderStatus.CLOSED,
  BrokerOrderStatus.TRIGGERED,
  BrokerOrderStatus.CONFIRM,
]);

export class FillWaiter {
  constructor(private readonly deps: FillWaiterDeps) {}

  /**
   * Follows `intent`'s order until it is settled or `untilMs` (epoch ms) has
   * passed; at least one look-up (`first`, when the caller has just made one).
   */
  async waitForFill(intent: TrackerRecord, untilMs: number, first?: LookupResult): Promise<FillWait> {
    // Listening for the whole wait, not only while paused: an order update that arrives meanwhile is
    // then known to have a waiter here, which answers its caller itself (OrderUpdateSignals.watching).
    const wake = { controller: new AbortController() };
    const off = this.deps.signals.on(intent.exitCorrelationId, () => wake.controller.abort());
    try {
      return await this.follow(intent, untilMs, wake, first);
    } finally {
      off();
    }
  }

  private async follow(
    intent: TrackerRecord,
    untilMs: number,
    wake: { controller: AbortController },
    first?: LookupResult,
  ): Promise<FillWait> {
    const { clock } = this.deps;
    let found = first ?? (await this.deps.gateway.find(intent.exitCorrelationId, attemptOrderQuantity(intent)));
    let tracker = intent;
    for (;;) {
      const observed = await this.observe(tracker, found);
      // What observe applied itself woke nothing worth a look; an update from elsewhere from here on does.
      wake.controller = new AbortController();
      tracker = observed;
      const order = found.kind === "found" ? found.order : undefined;
      const stillLive = tracker.status === TrackerStatus.EXITING && tracker.exitCorrelationId === intent.exitCorrelationId;
      const lookupFailed = found.kind === "lookup-failed" ? found.message : undefined;
      if (!stillLive) return { tracker, live: false, ...(order ? { order } : {}) };
      // The broker's answer is final but the tracker could not record it: waiting longer changes nothing.
      if (order && !LIVE.has(order.status)) return { tracker, live: true, order, unrecorded: true };
      const left = untilMs - clock.now();
      if (left <= 0) return { tracker, live: true, ...(order ? { order } : {}), ...(lookupFailed ? { lookupFailed } : {}) };
      // An update applied since the last look-up has woken it already: look again at once.
      if (!wake.controller.signal.aborted) await clock.sleep(Math.min(this.deps.pollIntervalMs, left), wake.controller.signal);
      found = await this.deps.gateway.find(intent.exitCorrelationId, attemptOrderQuantity(intent));
    }
  }

  /** Applies what the look-up found, then reads the tracker back. */
  private async observe(tracker: TrackerRecord, found: LookupResult): Promise<TrackerRecord> {
    if (found.kind === "found") {
      await this.deps.updates.apply(updateFromBrokerOrder(found.order, this.deps.clock.now()), { owe: false }).catch((error: unknown) => {
        this.deps.log.warn(
          { orderNo: tracker.orderNo, err: error },
          "order state from a look-up not applied; the next look-up tries again",
        );
      });
    }
    return (await this.deps.store.get(tracker.orderNo).catch(() => undefined)) ?? tracker;
  }
}
