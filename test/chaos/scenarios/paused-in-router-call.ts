/**
 * Scenario 3: a server SIGSTOPped inside its router call, then SIGCONT.
 *
 * Server 0's paper router takes 3 s per order (`--paper-latency-ms`, paused-server.ts)
 * before it writes the order to the book, and only victims are sent through
 * it. The scenario polls the store until every victim is EXITING (the intent
 * is stored right before the router call) and stops the server at once: the
 * pause lands inside the call, before the write, and the book is read to
 * prove it. Then:
 * - `past-lock-ttl`: the server stays stopped until its exit locks have
 *   expired on a quorum of lock nodes (read from the nodes) and the other
 *   servers have exited the rest of the trackers and called the victims;
 * - `past-unknown-grace`: it stays stopped past `--unknown-order-grace-ms`
 *   and until the other servers have settled every victim (their reconcilers
 *   conclude the order was never placed and place the next attempt).
 * After SIGCONT the stopped server's router call resumes; whatever it does,
 * each victim must end with one filled order.
 */
import { readTrackers } from "../support/chaos-trackers.js";
import { pausedServerFleet, pauseWhenIntentsStored, waitUntilLocksExpired, waitUntilSettledPastGrace } from "../support/paused-server.js";
import type { ScenarioContext, ScenarioDefinition } from "../support/run-scenario.js";
import { countAnswers } from "../support/scenario-report.js";

type PauseKind = "past-lock-ttl" | "past-unknown-grace";

function pausedInRouterCall(kind: PauseKind): ScenarioDefinition {
  return {
    name: `sigstop-${kind}`,
    fleet: () => pausedServerFleet(),
    trackers: (profile) => Math.round(profile.trackers / 5),
    run: (context) => pauseAndResume(context, kind),
  };
}

export const pausedPastLockTtl = pausedInRouterCall("past-lock-ttl");
export const pausedPastUnknownGrace = pausedInRouterCall("past-unknown-grace");

async function pauseAndResume(context: ScenarioContext, kind: PauseKind): Promise<void> {
  const { fleet } = context;
  const victims = context.random.shuffled(context.orderNos).slice(0, context.profile.name === "ci" ? 3 : 6);
  const others = context.orderNos.filter((orderNo) => !victims.includes(orderNo));
  const stopped = fleet.server(0);
  const observer = () => fleet.server(1).address;
  const throughStopped = context.drive({ addresses: [stopped.address], orderNos: victims, rounds: 1, concurrency: victims.length });
  const pause = await pauseWhenIntentsStored(context, victims, observer, "intent");

  await context.drive({ orderNos: others, rounds: 1 });
  await waitUntilLocksExpired(context, victims, pause);
  await context.drive({ orderNos: victims, rounds: 1 });
  if (kind === "past-unknown-grace") {
    await waitUntilSettledPastGrace(pause, victims, observer);
    const replaced = [...(await readTrackers(observer(), victims)).values()].filter((t) => t.exitAttempt > 1).length;
    context.note("victimsReplacedWhileStopped", replaced);
  }
  context.note("pausedMs", Date.now() - pause.pausedAt);
  fleet.resume(0);
  const victimCalls = await throughStopped;
  context.note(
    "stoppedServerAnswers",
    Object.entries(countAnswers(victimCalls))
      .map(([status, count]) => `${status}:${count}`)
      .join("/"),
  );
  const left = await context.driveUntilExited(context.orderNos, 6);
  context.check(left.length === 0, `${left.length} trackers not exited: ${left.join(", ")}`);
}
