/**
 * Scenario 4: the Redlock nodes go away under the fleet. With one of three
 * lost (kill -9), exits go on (a quorum of two). With two lost, every exit
 * answers LOCK_UNAVAILABLE and not one order reaches the book. Once both are
 * restarted (their append-only files bring the fencing counters back), the
 * trackers left are exited. The trackers are split in three sets, one per
 * phase, so each phase's outcome can be read off on its own.
 */
import { PLAIN_FLEET, type ScenarioDefinition } from "../support/run-scenario.js";
import { readTrackers } from "../support/chaos-trackers.js";
import { waitFor } from "../support/server-log.js";
import { TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";

/** Rounds of calls after the restart before the scenario stops insisting (lock clients reconnect with a backoff). */
const RECOVERY_DRIVES = 10;

export const lockNodesLost: ScenarioDefinition = {
  name: "lock-nodes",
  fleet: () => PLAIN_FLEET,
  trackers: (profile) => Math.round(profile.trackers / 2),
  async run(context) {
    const { fleet } = context;
    const third = Math.ceil(context.orderNos.length / 3);
    const [oneDown, twoDown, afterRestart] = [0, 1, 2].map((i) => context.orderNos.slice(i * third, (i + 1) * third)) as [
      string[],
      string[],
      string[],
    ];

    const started = Date.now();
    const phase = (name: string) => context.note(`${name}AtMs`, Date.now() - started);
    await fleet.lockNodes[0]!.kill();
    const withOneDown = await context.drive({ orderNos: oneDown, rounds: 1 });
    context.note("oneNodeDownLockUnavailable", withOneDown.filter((call) => call.status === "LOCK_UNAVAILABLE").length);
    const notExited = await context.driveUntilExited(oneDown, 3);
    context.check(
      notExited.length === 0,
      `with one lock node down, ${notExited.length} trackers were not exited: ${notExited.slice(0, 5).join(", ")}`,
    );

    phase("oneDownDone");
    await fleet.lockNodes[1]!.kill();
    const ordersBefore = (await context.book()).totalOrders;
    // Each of these calls only finds no quorum; many at once keep the phase short on a loaded machine.
    const withTwoDown = await context.drive({ orderNos: twoDown, rounds: 1, concurrency: 4 * context.profile.concurrency });
    const ordersDuring = (await context.book()).totalOrders - ordersBefore;
    const otherAnswers = withTwoDown.filter((call) => call.status !== "LOCK_UNAVAILABLE");
    context.note("twoNodesDownCalls", withTwoDown.length);
    const durations = withTwoDown.map((call) => call.finishedAt - call.startedAt).sort((a, b) => a - b);
    context.note("twoNodesDownCallP50Ms", durations[Math.floor(durations.length / 2)] ?? 0);
    context.note("twoNodesDownCallMaxMs", durations[durations.length - 1] ?? 0);
    context.note("twoNodesDownOrders", ordersDuring);
    context.check(ordersDuring === 0, `${ordersDuring} orders reached the book with two of three lock nodes down`);
    context.check(
      otherAnswers.length === 0,
      `with two lock nodes down, answers other than LOCK_UNAVAILABLE: ${otherAnswers
        .slice(0, 3)
        .map((c) => `${c.status ?? c.grpcCode} ${c.message}`)
        .join("; ")}`,
    );
    const untouched = await readTrackers(fleet.addresses[0]!, twoDown);
    context.check(
      [...untouched.values()].every((tracker) => tracker.status === TrackerStatus.ACTIVE),
      "every tracker called with two lock nodes down is still ACTIVE",
    );

    phase("twoDownDone");
    await Promise.all([fleet.lockNodes[0]!.restart(), fleet.lockNodes[1]!.restart()]);
    phase("restarted");
    // Each server's lock clients reconnect with a backoff: wait until each one answers an exit with a quorum again.
    for (const [index, address] of fleet.addresses.entries()) {
      const probe = afterRestart[index % afterRestart.length]!;
      await waitFor(
        async () =>
          (await context.drive({ addresses: [address], orderNos: [probe], rounds: 1 })).some((call) => call.status !== "LOCK_UNAVAILABLE"),
        `server ${index} reaching a lock quorum again`,
        60_000,
      );
    }
    phase("quorumBack");
    const left = await context.driveUntilExited([...twoDown, ...afterRestart], RECOVERY_DRIVES);
    context.check(left.length === 0, `${left.length} trackers not exited after the lock nodes came back: ${left.slice(0, 5).join(", ")}`);
  },
};
