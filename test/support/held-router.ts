/**
 * A paper router whose orders wait until the test releases them, so a test
 * can hold exits in flight (past their intent, before the broker answers)
 * for as long as it needs, without timing assumptions.
 */
import type { ExitOrderRequest } from "../../src/exit/ports.js";
import { PaperRouter } from "../../src/router/paper-router.js";

export class HeldRouter extends PaperRouter {
  private readonly waiters: (() => void)[] = [];
  private released = false;
  private arrivals: (() => void)[] = [];

  /** Orders waiting for `release()`. */
  get held(): number {
    return this.waiters.length;
  }

  override async placeExitOrder(order: ExitOrderRequest, signal: AbortSignal): Promise<unknown> {
    if (!this.released) {
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        for (const arrived of this.arrivals.splice(0)) arrived();
      });
    }
    return super.placeExitOrder(order, signal);
  }

  /** Resolves once at least `count` orders are held. */
  async untilHeld(count: number): Promise<void> {
    while (this.waiters.length < count) await new Promise<void>((resolve) => this.arrivals.push(resolve));
  }

  /** Lets every held order, and every later one, through. */
  release(): void {
    this.released = true;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
