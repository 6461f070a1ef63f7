/**
 * Scenario 5: the tracker store's Redis (which also holds the paper book) is
 * killed with kill -9 while clients race, and restarted on its fsynced
 * append-only file. The kill lands once a share of the trackers has orders
 * in the book (polled, not timed); the restart once a call has been seen to
 * fail against the dead store. Exits in flight at the kill end EXITING or
 * unanswered; the reconcilers resolve them after the restart, and later
 * rounds exit the rest. Nothing acknowledged is lost, nothing sent twice.
 */
import { ExitService } from "../../../gen/tradingcore/v1/exit_pb.js";
import { createGrpcJsClient } from "../../../src/client/grpc-js-client.js";
import { PLAIN_FLEET, type ScenarioDefinition } from "../support/run-scenario.js";
import { waitFor } from "../support/server-log.js";

const RECOVERY_DRIVES = 10;

export const storeRedisKilled: ScenarioDefinition = {
  name: "store-redis",
  fleet: () => PLAIN_FLEET,
  trackers: (profile) => Math.round(profile.trackers / 2),
  async run(context) {
    const { fleet } = context;
    const racing = context.drive({ rounds: 1, concurrency: 2 });
    const share = Math.ceil(context.orderNos.length / 4);
    await waitFor(async () => (await context.book()).totalOrders >= share, `orders for a quarter of the trackers`, 90_000);
    await fleet.store.kill();
    const probe = context.orderNos[context.orderNos.length - 1]!;
    await waitFor(() => failsAgainstDeadStore(fleet.addresses[0]!, probe), "a call failing while the store is down", 30_000);
    await fleet.store.restart();
    const racedCalls = await racing;
    context.note("callsWithoutAnswer", racedCalls.filter((call) => !call.status).length);

    const left = await context.driveUntilExited(context.orderNos, RECOVERY_DRIVES);
    context.check(left.length === 0, `${left.length} trackers not exited after the store came back: ${left.slice(0, 5).join(", ")}`);
  },
};

/** True when reading a tracker through `address` fails: the server sees the store down. */
async function failsAgainstDeadStore(address: string, orderNo: string): Promise<boolean> {
  const exits = createGrpcJsClient(ExitService, address);
  try {
    return await exits.getTracker({ orderNo }, { timeoutMs: 10_000 }).then(
      () => false,
      () => true,
    );
  } finally {
    exits.close();
  }
}
