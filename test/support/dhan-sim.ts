/**
 * The Dhan simulator as tests on the wall clock meet it: an accepted order
 * trades the moment it is placed (its TRANSIT and PENDING last no time) at
 * `defaultPrice` unless the instrument has ticked, and the account's own
 * order limits are out of the way unless a test sets them. Everything else
 * (tokens, error bodies, faults, look-ups, feeds) is the simulator's own.
 */
import { DhanSimulator, type DhanSimulatorOptions } from "../../src/dhan-sim/dhan-simulator.js";
import { DEFAULT_DHAN_SETTINGS, DhanRouter, type DhanRouterSettings } from "../../src/router/dhan-router.js";

const UNLIMITED = { perSecond: 1_000_000, perMinute: 1_000_000, perHour: 1_000_000, perDay: 1_000_000 };

export function instantDhanSimulator(options: DhanSimulatorOptions = {}): DhanSimulator {
  return new DhanSimulator({
    delays: { pendingAfterMs: 0, tradedAfterMs: 0 },
    defaultPrice: "101.05",
    ...options,
    rateLimits: { ...UNLIMITED, ...options.rateLimits },
  });
}

/** The bodies of the order POSTs the simulator received, first first, whatever they were answered. */
export function postedOrders(sim: DhanSimulator): Record<string, unknown>[] {
  return sim.requests
    .filter((request) => request.method === "POST" && request.path === "/v2/orders")
    .map((request) => JSON.parse(request.body) as Record<string, unknown>);
}

/** A Dhan router with the default settings, pointed at `sim` and logged in to its account; `settings` changes any of them. */
export function dhanRouterOn(sim: DhanSimulator, settings: Partial<DhanRouterSettings> = {}): DhanRouter {
  return new DhanRouter({
    ...DEFAULT_DHAN_SETTINGS,
    baseUrl: sim.baseUrl,
    clientId: sim.account.clientId,
    accessToken: sim.account.accessToken,
    ...settings,
  });
}
