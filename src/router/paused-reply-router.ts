/**
 * Fault injection for crash tests: wraps a router so that every exit order,
 * once the inner router has placed it, has its reply held for `pauseMs`
 * before the engine sees it. A process killed during the pause leaves an
 * intent whose order exists at the broker and whose tracker says EXITING:
 * the state the reconciler recovers at the next start-up.
 *
 * Off unless configured (`--fault-pause-after-order-ms`). Logs each pause so
 * a test knows when to kill.
 */
import type { BrokerOrder, ExitLog, ExitOrderRequest, OrderExpectation, OrderRouter, RouterAvailability } from "../exit/ports.js";

export class PausedReplyRouter implements OrderRouter {
  constructor(
    private readonly inner: OrderRouter,
    private readonly pauseMs: number,
    private readonly log: ExitLog,
  ) {}

  availability(): RouterAvailability {
    return this.inner.availability();
  }

  async reserveSend(order: ExitOrderRequest, signal: AbortSignal): Promise<void> {
    await this.inner.reserveSend?.(order, signal);
  }

  async placeExitOrder(order: ExitOrderRequest, signal: AbortSignal): Promise<unknown> {
    const reply = await this.inner.placeExitOrder(order, signal);
    this.log.warn(
      { orderNo: order.orderNo, correlationId: order.correlationId, pauseMs: this.pauseMs },
      "fault injection: exit order placed, reply held",
    );
    await new Promise((resolve) => setTimeout(resolve, this.pauseMs));
    return reply;
  }

  findOrder(correlationId: string, signal?: AbortSignal, expected?: OrderExpectation): Promise<BrokerOrder | undefined> {
    return this.inner.findOrder(correlationId, signal, expected);
  }
}
