/**
 * Scenario 6: the paper router misbehaves on every server: it rejects some
 * orders, hangs on some calls without placing anything (timeouts), and
 * loses the reply of some orders it did place. Clients race and re-ask for
 * every tracker not yet exited, as a strategy would after a refusal; the
 * reconcilers resolve every unknown outcome by correlation id. Each tracker
 * ends EXITED by one filled order, whatever the faults on the way.
 */
import type { ScenarioDefinition } from "../support/run-scenario.js";

const ROUTER_TIMEOUT_MS = 1_000;

export const routerFaults: ScenarioDefinition = {
  name: "router-faults",
  fleet: () => ({
    lockTtlMs: 3_000,
    routerTimeoutMs: ROUTER_TIMEOUT_MS,
    unknownOrderGraceMs: 4 * ROUTER_TIMEOUT_MS + 500,
    reconcilerGraceMs: 500,
    reconcilerIntervalMs: 250,
    args: ["--paper-reject-rate", "0.15", "--paper-timeout-rate", "0.1", "--paper-lost-reply-rate", "0.1"],
  }),
  trackers: (profile) => Math.round(profile.trackers / 2),
  async run(context) {
    const calls = await context.drive({ stopWhenExited: true });
    const seen = (status: string) => calls.filter((call) => call.status === status).length;
    context.check(seen("ROUTER_REJECTED") > 0, "no call was answered ROUTER_REJECTED: the reject fault did not fire");
    context.check(seen("OUTCOME_UNKNOWN") > 0, "no call was answered OUTCOME_UNKNOWN: the timeout and lost-reply faults did not fire");
    const left = await context.driveUntilExited(context.orderNos, 10);
    context.check(left.length === 0, `${left.length} trackers not exited: ${left.slice(0, 5).join(", ")}`);
  },
};
