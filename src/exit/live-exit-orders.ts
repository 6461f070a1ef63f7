/**
 * Looks up the broker order of every EXITING tracker and passes what the
 * broker says through the order update path, as if the update had arrived.
 * Run after an order update feed (re)connects: updates sent while it was
 * disconnected are lost, and this is how their fills and refusals still reach
 * the trackers without waiting for the reconciler's grace.
 *
 * Guarantees: it places nothing; an order is looked up for the attempt's
 * quantity, so a sliced exit's slices are followed as one order; an order the broker does not show is left
 * alone (concluding "never placed" is the reconciler's, under the lock); one
 * failing look-up does not stop the others.
 */
import { TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { attemptOrderQuantity } from "../domain/exit-fill.js";
import { updateFromBrokerOrder } from "./order-update-change.js";
import type { Clock, ExitLog, OrderRouter, OrderUpdateSink, TrackerStore } from "./ports.js";

export interface LiveExitOrderPorts {
  readonly store: TrackerStore;
  readonly router: OrderRouter;
  readonly updates: OrderUpdateSink;
  readonly clock: Clock;
  readonly log: ExitLog;
}

const PAGE = 200;

/** Answers how many live exit orders were looked up and found. */
export async function refreshLiveExitOrders(ports: LiveExitOrderPorts, signal?: AbortSignal): Promise<number> {
  let found = 0;
  let after: string | undefined;
  do {
    const page = await ports.store.list({ status: TrackerStatus.EXITING }, { limit: PAGE, ...(after === undefined ? {} : { after }) });
    for (const tracker of page.trackers) {
      if (signal?.aborted) return found;
      const correlationId = tracker.exitCorrelationId;
      if (!correlationId) continue;
      try {
        // With the attempt's quantity, as the exit's own look-ups pass it: a sliced order's slices are walked until
        // they add up to it, and one still missing leaves the order live instead of taking the others for the whole.
        const order = await ports.router.findOrder(correlationId, signal, { quantity: attemptOrderQuantity(tracker) });
        if (!order) continue;
        found++;
        await ports.updates.apply(updateFromBrokerOrder(order, ports.clock.now()));
      } catch (error) {
        ports.log.warn(
          { orderNo: tracker.orderNo, correlationId, err: error instanceof Error ? error.message : String(error) },
          "live exit order look-up failed; the reconciler will look again",
        );
      }
    }
    after = page.nextCursor;
  } while (after !== undefined);
  return found;
}
