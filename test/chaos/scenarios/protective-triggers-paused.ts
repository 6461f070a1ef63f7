/**
 * Scenario: protective exits fired by ticks, with the server that fired a
 * batch of them SIGSTOPped inside its router calls.
 *
 * Every tracker gets a stop loss (UpdateExitPlan). The victims' (LONG
 * trackers) is reached by a tick the others' are not. That tick goes to
 * server 0 alone, whose paper router takes 3 s per order (paused-server.ts); once every
 * victim is EXITING (the intent is stored right before the router call) the
 * server is stopped, inside the calls, and the book is read to prove it.
 * While it is stopped, the other servers are fed the same ticks and then the
 * ones that reach every other stop loss, over and over, while clients race
 * ExecuteExit on the other trackers: the others' rules fire on every server
 * at once, and the victims' fire there too (their claims lapse after
 * `--protection-claim-ttl-ms`, the stopped server's exit locks after their
 * TTL, and its orders are taken for never placed after the unknown-order
 * grace). Then the server is let go and its router calls finish.
 *
 * Whatever each server did, every tracker must end EXITED with one filled
 * order, the victims by their stop loss alone (no client ever asked for
 * them).
 */
import { ExitReasonCode, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { ExitService } from "../../../gen/tradingcore/v1/exit_pb.js";
import { createGrpcJsClient } from "../../../src/client/grpc-js-client.js";
import { CHAOS_LTP, publishTick, readTrackers } from "../support/chaos-trackers.js";
import { pausedServerFleet, pauseWhenIntentsStored, waitUntilLocksExpired, waitUntilSettledPastGrace } from "../support/paused-server.js";
import type { ScenarioContext, ScenarioDefinition } from "../support/run-scenario.js";
import { waitFor } from "../support/server-log.js";

/** The shortest claim the product takes: the victims' claims lapse early in the pause. */
const CLAIM_TTL_MS = 1_000;
/** Between two rounds of ticks to the running servers. */
const TICK_EVERY_MS = 150;

/**
 * Stop losses (a LONG's below its entry, 101.55, a SHORT's above it; the chaos instrument is at
 * CHAOS_LTP, 104.35, when they are set), and the ticks that reach them.
 */
const VICTIM_STOP = "100.00";
const LONG_STOP = "99.00";
const SHORT_STOP = "105.50";
const VICTIMS_ONLY_TICK = "99.95";
const EVERY_STOP_TICKS = [VICTIMS_ONLY_TICK, "98.95", "105.55"] as const;

export const protectiveTriggersPaused: ScenarioDefinition = {
  name: "protective-triggers-sigstop",
  fleet: () =>
    pausedServerFleet([
      "--protection-claim-ttl-ms",
      String(CLAIM_TTL_MS),
      "--protection-retry-ms",
      "200",
      "--protection-refresh-ms",
      "200",
    ]),
  trackers: (profile) => Math.round(profile.trackers / 5),
  run: firePauseAndResume,
};

async function firePauseAndResume(context: ScenarioContext): Promise<void> {
  const { fleet } = context;
  // registerTrackers makes every other tracker LONG, from the first.
  const longs = context.orderNos.filter((_, index) => index % 2 === 0);
  const victims = context.random.shuffled(longs).slice(0, context.profile.name === "ci" ? 3 : 6);
  const victimSet = new Set(victims);
  const others = context.orderNos.filter((orderNo) => !victimSet.has(orderNo));
  const stopped = fleet.server(0);
  const observer = () => fleet.server(1).address;

  // The victims' plans through the server that fires them (its book has them at once), the others' through another.
  await setStopLosses(stopped.address, victims, () => VICTIM_STOP);
  await setStopLosses(observer(), others, (orderNo) => (context.orderNos.indexOf(orderNo) % 2 === 0 ? LONG_STOP : SHORT_STOP));
  await publishTick([stopped.address], VICTIMS_ONLY_TICK);
  const pause = await pauseWhenIntentsStored(context, victims, observer, "protective exit intent");

  const ticking = tickUntilStopped(() => fleet.addresses);
  try {
    await context.drive({ orderNos: others, rounds: 1 });
    await waitUntilLocksExpired(context, victims, pause);
    await waitUntilSettledPastGrace(pause, victims, observer);
    context.note("pausedMs", Date.now() - pause.pausedAt);
    fleet.resume(0);
    // The resumed server's router calls finish; every server goes on seeing the ticks until all is exited.
    const exited = async () =>
      [...(await readTrackers(observer(), context.orderNos)).values()].filter((t) => t.status === TrackerStatus.EXITED).length ===
      context.orderNos.length;
    await waitFor(exited, "every tracker EXITED", context.profile.settleBoundMs).catch(() => undefined);
  } finally {
    context.note("tickRounds", await ticking.stop());
  }

  const final = await readTrackers(observer(), context.orderNos);
  const notExited = context.orderNos.filter((orderNo) => final.get(orderNo)?.status !== TrackerStatus.EXITED);
  context.check(notExited.length === 0, `${notExited.length} trackers not EXITED: ${notExited.join(", ")}`);
  const victimsByStopLoss = victims.filter((orderNo) => final.get(orderNo)?.exitReasonCode === ExitReasonCode.STOP_LOSS);
  context.check(
    victimsByStopLoss.length === victims.length,
    `only ${victimsByStopLoss.length} of ${victims.length} victims exited by their stop loss`,
  );
  context.note(
    "othersExitedByStopLoss",
    others.filter((orderNo) => final.get(orderNo)?.exitReasonCode === ExitReasonCode.STOP_LOSS).length,
  );
  context.note("othersExitedOnRequest", others.filter((orderNo) => final.get(orderNo)?.exitReasonCode !== ExitReasonCode.STOP_LOSS).length);
  // Back at the price the other scenarios expect.
  await publishTick(fleet.addresses, CHAOS_LTP);
}

/** Gives each tracker of `orderNos` a stop loss at `priceOf(orderNo)`, at the version it has now. */
async function setStopLosses(address: string, orderNos: readonly string[], priceOf: (orderNo: string) => string): Promise<void> {
  const exits = createGrpcJsClient(ExitService, address);
  try {
    for (const orderNo of orderNos) {
      const { tracker } = await exits.getTracker({ orderNo });
      await exits.updateExitPlan({
        orderNo,
        expectedVersion: tracker!.version,
        exitPlan: { stopLoss: { level: { case: "price", value: priceOf(orderNo) } } },
      });
    }
  } finally {
    exits.close();
  }
}

/**
 * Publishes the ticks that reach every stop loss to the servers running now, round after round,
 * each a little later than the last, until `stop` (which answers the rounds sent).
 */
function tickUntilStopped(addresses: () => readonly string[]): { stop(): Promise<number> } {
  let stopping = false;
  let rounds = 0;
  const loop = (async () => {
    while (!stopping) {
      for (const ltp of EVERY_STOP_TICKS) await publishTick(addresses(), ltp).catch(() => undefined);
      rounds++;
      await new Promise((resolve) => setTimeout(resolve, TICK_EVERY_MS));
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
      return rounds;
    },
  };
}
