/**
 * Scenario 6: the paper market misbehaves on every server, each drawing its
 * faults from a seed derived from the scenario's: it rejects some orders,
 * hangs on some calls without placing anything (timeouts), loses the reply
 * of some orders it did place, rejects some after accepting them, fills half
 * of some and cancels the rest, and fills some only after the exit's fill
 * wait (AWAITING_FILL). Clients race and re-ask for every tracker not yet
 * exited, as a strategy would after a refusal; the reconcilers resolve every
 * unknown outcome, follow every live order to its end and retry refusals for
 * the residual. Each tracker ends EXITED by fills that add up to its quantity
 * exactly (a partial fill plus the residual's order are two orders).
 */
import type { ScenarioDefinition } from "../support/run-scenario.js";

const ROUTER_TIMEOUT_MS = 1_000;
const LATE_MS = 1_500;
const FILL_WAIT_MS = 1_000;

export const routerFaults: ScenarioDefinition = {
  name: "router-faults",
  fleet: () => ({
    lockTtlMs: 3_000,
    routerTimeoutMs: ROUTER_TIMEOUT_MS,
    unknownOrderGraceMs: 4 * ROUTER_TIMEOUT_MS + 500,
    reconcilerGraceMs: 500,
    reconcilerIntervalMs: 250,
    args: [
      "--paper-reject-rate",
      "0.1",
      "--paper-timeout-rate",
      "0.08",
      "--paper-lost-reply-rate",
      "0.08",
      "--paper-reject-after-accept-rate",
      "0.08",
      "--paper-partial-fill-rate",
      "0.1",
      "--paper-late-fill-rate",
      "0.15",
      "--paper-late-ms",
      String(LATE_MS),
      "--fill-wait-ms",
      String(FILL_WAIT_MS),
      // A refused exit is retried by the reconciler as well as by the clients; keep it trying.
      "--reconciler-retry-budget",
      "10",
    ],
  }),
  trackers: (profile) => Math.round(profile.trackers / 2),
  invariants: { splitFills: true },
  async run(context) {
    const calls = await context.drive({ stopWhenExited: true });
    const left = await context.driveUntilExited(context.orderNos, 10);
    context.check(left.length === 0, `${left.length} trackers not exited: ${left.slice(0, 5).join(", ")}`);

    // Every fault kind must have fired, or the run proved less than it says.
    const orders = [...(await context.book()).ordersByTracker.values()].flat();
    const faults = {
      rejected: orders.filter((o) => o.status === "REJECTED" && !/after acceptance/.test(o.message ?? "")).length,
      rejectedAfterAcceptance: orders.filter((o) => o.status === "REJECTED" && /after acceptance/.test(o.message ?? "")).length,
      partlyFilledThenCancelled: orders.filter((o) => o.status === "CANCELLED" && o.tradedQuantity.gt(0)).length,
      answeredOutcomeUnknown: calls.filter((call) => call.status === "OUTCOME_UNKNOWN").length,
      answeredAwaitingFill: calls.filter((call) => call.status === "AWAITING_FILL").length,
    };
    for (const [kind, count] of Object.entries(faults)) {
      context.note(kind, count);
      context.check(count > 0, `no ${kind}: that fault did not fire`);
    }
  },
};
