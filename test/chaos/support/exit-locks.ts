/**
 * The exit locks as the lock nodes hold them, read from the nodes
 * themselves (under the fleet's key prefix, as the servers write them): what
 * a scenario waits on before it lets a paused server go.
 */
import { createClient } from "redis";
import { exitLockResource } from "../../../src/exit/exit-engine.js";
import { CHAOS_KEY_PREFIX, type ChaosFleet } from "./chaos-fleet.js";

/** The value of each victim's exit lock on each lock node (empty when not held), node by node. */
export async function lockValues(fleet: ChaosFleet, orderNos: readonly string[]): Promise<string[][]> {
  return Promise.all(
    fleet.lockNodes.map(async (node) => {
      const client = createClient({ url: node.url, socket: { reconnectStrategy: false } });
      client.on("error", () => {});
      await client.connect();
      try {
        return await Promise.all(
          orderNos.map(async (orderNo) => (await client.get(`${CHAOS_KEY_PREFIX}${exitLockResource(orderNo)}`)) ?? ""),
        );
      } finally {
        client.destroy();
      }
    }),
  );
}

/** True when on a quorum of lock nodes none of the locks `before` saw held is still held by the same value. */
export async function locksExpired(fleet: ChaosFleet, orderNos: readonly string[], before: readonly string[][]): Promise<boolean> {
  const now = await lockValues(fleet, orderNos);
  const released = now.filter((values, node) => values.every((value, i) => before[node]![i] === "" || value !== before[node]![i]));
  return released.length >= Math.floor(fleet.lockNodes.length / 2) + 1;
}

/** How many victims' locks the lock nodes held, summed over the nodes: none means the locks were not found at all. */
export function locksSeen(values: readonly string[][]): number {
  return values.reduce((sum, node) => sum + node.filter((value) => value !== "").length, 0);
}
