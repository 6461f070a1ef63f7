/**
 * Scenario 2: kill -9 of a server between the broker's acceptance and the
 * tracker update, then a restart. Server 0 holds every exit order's reply
 * once the order is in the book (`--fault-pause-after-order-ms`); the
 * scenario sends a batch of victims through it, waits until each victim's
 * order is placed and held (its log line: an event, not a guess), and kills
 * it. The victims are EXITING with filled orders; the other servers race the
 * whole set while the victims are resolved (by their reconcilers, or by a
 * client's call resuming the intent), then server 0 comes back without the
 * hold and its start-up reconciliation runs before it serves the last round.
 * Every victim ends EXITED by the one order server 0 placed.
 */
import type { ScenarioDefinition } from "../support/run-scenario.js";
import { publishTick } from "../support/chaos-trackers.js";
import { REPLY_HELD, logEntries, waitFor } from "../support/server-log.js";

export const killAfterAcceptance: ScenarioDefinition = {
  name: "kill-9",
  fleet: () => ({
    lockTtlMs: 3_000,
    routerTimeoutMs: 2_000,
    unknownOrderGraceMs: 10_000,
    reconcilerGraceMs: 1_500,
    reconcilerIntervalMs: 250,
    argsFor: (index) => (index === 0 ? ["--fault-pause-after-order-ms", "600000"] : []),
  }),
  trackers: (profile) => Math.round(profile.trackers / 2),
  async run(context) {
    const { fleet } = context;
    const victims = context.random.shuffled(context.orderNos).slice(0, Math.max(5, Math.round(context.orderNos.length / 8)));
    const held = fleet.server(0);
    // Every victim call may hang until the kill, so each client keeps all of them in flight at once.
    const throughHeld = context.drive({ addresses: [held.address], orderNos: victims, rounds: 1, concurrency: victims.length });
    const placed = () => new Set(logEntries(held, REPLY_HELD).map((entry) => entry.orderNo));
    await waitFor(() => victims.every((orderNo) => placed().has(orderNo)), "every victim's order placed and held", 90_000);
    context.note("victims", victims.length);
    await fleet.kill(0, "SIGKILL");
    const victimCalls = await throughHeld;
    context.note("victimCallsCutOff", victimCalls.filter((call) => !call.status).length);

    const book = await context.book();
    const victimOrders = victims.map((orderNo) => book.ordersByTracker.get(orderNo)?.length ?? 0);
    context.check(victimOrders.every((count) => count === 1), `each victim has one order in the book after the kill: ${victimOrders.join(",")}`);

    await context.drive({ rounds: 1 });
    await fleet.restart(0);
    await publishTick([fleet.server(0).address]);
    await context.drive({ rounds: 1 });
  },
};
