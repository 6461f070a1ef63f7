/**
 * What the scenarios that SIGSTOP server 0 inside its router calls share:
 * the fleet (server 0's paper router slow enough for the pause to land in
 * the call), the pause itself once every victim's intent is stored, with the
 * proof that it landed before the order was written, and the wait until the
 * other servers have settled the victims past the unknown-order grace.
 */
import { TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import type { FleetSettings } from "./chaos-fleet.js";
import { readTrackers } from "./chaos-trackers.js";
import { lockValues, locksExpired, locksSeen } from "./exit-locks.js";
import type { ScenarioContext } from "./run-scenario.js";
import { waitFor } from "./server-log.js";

/** Server 0's paper router time per order: the pause lands inside it. */
const LATENCY_MS = 3_000;
const ROUTER_TIMEOUT_MS = 4_000;
const LOCK_TTL_MS = 1_500;
/** The product requires more than 4 × the router timeout. */
const UNKNOWN_ORDER_GRACE_MS = 4 * ROUTER_TIMEOUT_MS + 500;

/** The fleet of a pause scenario; `args` go to every server. */
export function pausedServerFleet(args: readonly string[] = []): Omit<FleetSettings, "build" | "servers" | "seed"> {
  return {
    lockTtlMs: LOCK_TTL_MS,
    routerTimeoutMs: ROUTER_TIMEOUT_MS,
    unknownOrderGraceMs: UNKNOWN_ORDER_GRACE_MS,
    reconcilerGraceMs: 500,
    reconcilerIntervalMs: 250,
    ...(args.length > 0 ? { args } : {}),
    argsFor: (index) => (index === 0 ? ["--paper-latency-ms", String(LATENCY_MS)] : []),
  };
}

export interface Pause {
  readonly pausedAt: number;
  /** Each victim's exit lock on each lock node at the pause (locksExpired waits for them to go). */
  readonly locksAtPause: string[][];
}

/**
 * Once every victim is EXITING as `observer` reads it (the intent is stored right before the router
 * call), stops server 0, and checks that the pause landed before the router wrote any victim's order.
 */
export async function pauseWhenIntentsStored(
  context: ScenarioContext,
  victims: readonly string[],
  observer: () => string,
  intents: string,
): Promise<Pause> {
  const { fleet } = context;
  await waitFor(
    async () =>
      [...(await readTrackers(observer(), victims)).values()].filter((t) => t.status === TrackerStatus.EXITING).length === victims.length,
    `every victim's ${intents} stored`,
    60_000,
  );
  fleet.pause(0);
  const pausedAt = Date.now();
  const locksAtPause = await lockValues(fleet, victims);
  // A figure, not a premise: on a starved machine the stopped server may have lost a lock (a late extension) before the pause.
  context.note("lockNodesHoldingEveryVictimAtPause", locksAtPause.filter((values) => values.every((value) => value !== "")).length);
  // The stopped server took them just before the intents the pause followed: not one seen means a wait for them would not wait.
  context.check(locksSeen(locksAtPause) > 0, "no victim's exit lock seen on any lock node at the pause");
  const stored = await readTrackers(observer(), victims);
  const book = await context.book();
  const writtenBeforePause = victims.filter((orderNo) =>
    (book.ordersByTracker.get(orderNo) ?? []).some((order) => order.correlationId === stored.get(orderNo)?.exitCorrelationId),
  );
  context.note("victims", victims.length);
  context.note("ordersWrittenBeforePause", writtenBeforePause.length);
  context.check(
    writtenBeforePause.length === 0,
    `the pause did not land before the router wrote the order of ${writtenBeforePause.join(", ")}`,
  );
  return { pausedAt, locksAtPause };
}

/** Waits until the stopped server's exit locks on the victims have expired on a quorum of lock nodes. */
export async function waitUntilLocksExpired(context: ScenarioContext, victims: readonly string[], pause: Pause): Promise<void> {
  await waitFor(
    () => locksExpired(context.fleet, victims, pause.locksAtPause),
    "the stopped server's exit locks expired on a quorum",
    30_000,
  );
}

/** Waits past the unknown-order grace, then until `observer` reads no victim EXITING (the other servers settled them). */
export async function waitUntilSettledPastGrace(pause: Pause, victims: readonly string[], observer: () => string): Promise<void> {
  await waitFor(
    () => Date.now() - pause.pausedAt > UNKNOWN_ORDER_GRACE_MS,
    "the unknown-order grace passed",
    UNKNOWN_ORDER_GRACE_MS + 5_000,
  );
  const settled = async () => [...(await readTrackers(observer(), victims)).values()].every((t) => t.status !== TrackerStatus.EXITING);
  await waitFor(settled, "the other servers settled every victim", 60_000);
}
