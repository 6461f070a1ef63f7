/**
 * Broker order updates for exit orders (the seed's OrderUpdateHandler): the
 * path by which a fill reaches a tracker even when the engine's own write
 * failed. Idempotent: applying the same update twice changes nothing.
 */
import { BrokerOrderStatus, ExitEventKind } from "../../gen/tradingcore/v1/exit_pb.js";
import { ExitStatus, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { Money } from "../domain/money.js";
import type { TrackerRecord } from "../domain/tracker.js";
import type { Clock, ExitEventSink, TrackerStore } from "./ports.js";

export interface OrderUpdate {
  readonly correlationId: string;
  readonly orderId: string;
  readonly status: BrokerOrderStatus;
  /** Cumulative traded quantity of the order. */
  readonly tradedQuantity?: Money;
  readonly averagePrice?: Money;
  readonly updateTimeMs: number;
}

export interface OrderUpdateResult {
  /** False when nothing changed (a duplicate, or an update this tracker does not need). */
  readonly applied: boolean;
  readonly tracker?: TrackerRecord;
  readonly message: string;
}

const MAX_RACES = 5;

export class OrderUpdateHandler {
  constructor(
    private readonly store: TrackerStore,
    private readonly clock: Clock,
    private readonly events: ExitEventSink,
  ) {}

  async apply(update: OrderUpdate): Promise<OrderUpdateResult> {
    for (let race = 0; race < MAX_RACES; race++) {
      const tracker = await this.store.findByCorrelationId(update.correlationId);
      if (!tracker) return { applied: false, message: `no tracker has exit correlation id ${update.correlationId}` };
      if (update.status !== BrokerOrderStatus.TRADED) {
        return { applied: false, tracker, message: `${BrokerOrderStatus[update.status]} noted; the intent is resolved by the engine` };
      }
      const next = this.tradedTracker(tracker, update);
      if (!next) return { applied: false, tracker, message: "duplicate update: the tracker already records this fill" };
      const written = await this.store.compareAndSet(next, tracker.version);
      if (written.kind === "written") {
        this.events.publish({
          kind: ExitEventKind.EXITED,
          tracker: written.tracker,
          status: ExitStatus.EXITED,
          correlationId: update.correlationId,
          timeMs: this.clock.now(),
          message: `order ${update.orderId} traded`,
        });
        return { applied: true, tracker: written.tracker, message: "fill recorded" };
      }
    }
    return { applied: false, message: `tracker kept changing; update for ${update.correlationId} not applied, send it again` };
  }

  /** The tracker after a TRADED update, or undefined when it already says exactly that. */
  private tradedTracker(tracker: TrackerRecord, update: OrderUpdate): TrackerRecord | undefined {
    if (tracker.status !== TrackerStatus.EXITING && tracker.status !== TrackerStatus.EXITED) return undefined;
    const exitPrice = update.averagePrice ?? tracker.exitPrice;
    const exitedQuantity = update.tradedQuantity ?? tracker.quantity;
    const unchanged =
      tracker.status === TrackerStatus.EXITED &&
      tracker.exitOrderId === update.orderId &&
      sameMoney(tracker.exitPrice, exitPrice) &&
      tracker.exitedQuantity.equals(exitedQuantity);
    if (unchanged) return undefined;
    const now = this.clock.now();
    return {
      ...tracker,
      status: TrackerStatus.EXITED,
      exitOrderId: update.orderId || tracker.exitOrderId,
      exitedQuantity,
      exitedAt: tracker.exitedAt ?? update.updateTimeMs ?? now,
      updatedAt: now,
      ...(exitPrice ? { exitPrice } : {}),
    };
  }
}

function sameMoney(a: Money | undefined, b: Money | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.equals(b);
}
