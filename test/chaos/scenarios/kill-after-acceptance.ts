/**
 * Scenario 2: kill -9 of a server between the broker's acceptance and the
 * tracker update, then a restart. Server 0 holds every exit order's reply
 * once the order is in the book (`--fault-pause-after-order-ms`); the
 * scenario sends a batch of victims through it, waits until each victim's
 * order is placed and held (its log line: an event, not a guess), and kills
 * it. The victims are EXITING with filled orders. The other servers leave
 * them alone (their reconcilers' grace is long) while they race the other
 * trackers; then server 0 comes back without the hold, and its reconciler
 * (its start-up pass, or the next ones once the killed process's locks have
 * expired) must mark every victim EXITED by the one order placed before the
 * crash.
 */
import type { ScenarioDefinition } from "../support/run-scenario.js";
import { TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { publishTick, readTrackers, waitUntilSettled } from "../support/chaos-trackers.js";
import { REPLY_HELD, logEntries, waitFor } from "../support/server-log.js";

export const killAfterAcceptance: ScenarioDefinition = {
  name: "kill-9",
  fleet: () => ({
    lockTtlMs: 3_000,
    routerTimeoutMs: 2_000,
    unknownOrderGraceMs: 10_000,
    reconcilerGraceMs: 1_500,
    reconcilerIntervalMs: 250,
    // The others' reconcilers leave the victims to the restarted server's start-up reconciliation.
    argsFor: (index) => (index === 0 ? ["--fault-pause-after-order-ms", "600000"] : ["--reconciler-grace-ms", "600000"]),
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
    context.check(
      victimOrders.every((count) => count === 1),
      `each victim has one order in the book after the kill: ${victimOrders.join(",")}`,
    );

    const victimSet = new Set(victims);
    await context.drive({ orderNos: context.orderNos.filter((orderNo) => !victimSet.has(orderNo)), rounds: 1 });
    const beforeRestart = await readTrackers(fleet.addresses[0]!, victims);
    const exitingBeforeRestart = victims.filter((orderNo) => beforeRestart.get(orderNo)?.status === TrackerStatus.EXITING).length;
    context.note("victimsExitingBeforeRestart", exitingBeforeRestart);
    context.check(
      exitingBeforeRestart === victims.length,
      `only ${exitingBeforeRestart} of ${victims.length} victims were still EXITING before the restart`,
    );

    await fleet.restart(0);
    const restartedAt = Date.now();
    // Its start-up pass finds the victims' locks still held by the killed process until their TTL runs out; a later pass resolves them.
    const recovered = await waitUntilSettled(() => fleet.server(0).address, victims, context.profile.settleBoundMs);
    const exitedByRestarted = victims.filter((orderNo) => recovered.trackers.get(orderNo)?.status === TrackerStatus.EXITED).length;
    context.note("victimsExitedByRestartedServer", exitedByRestarted);
    context.note("restartToVictimsExitedMs", Date.now() - restartedAt);
    context.check(exitedByRestarted === victims.length, `the restarted server exited ${exitedByRestarted} of ${victims.length} victims`);
    await publishTick([fleet.server(0).address]);
    await context.drive({ rounds: 1 });
  },
};
