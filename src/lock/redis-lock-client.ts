/**
 * One connection to one Redlock node. Commands fail at once while the node is
 * disconnected (no offline queue): a lock command replayed minutes later, on
 * reconnect, would be worse than one that failed. Reconnects forever with a
 * capped backoff, so a node that comes back rejoins the quorum by itself.
 */
import { createFailFastRedisClient, type RedisConnectionOptions } from "../redis-connection.js";
import { REDLOCK_SCRIPTS } from "./redlock-scripts.js";

export type RedisLockClientOptions = RedisConnectionOptions;

export type RedisLockClient = ReturnType<typeof createRedisLockClient>;

/** A client for one lock node with the Redlock scripts attached; call `connectLockClient` before use. */
export function createRedisLockClient(url: string, options: RedisLockClientOptions = {}) {
  return createFailFastRedisClient(url, REDLOCK_SCRIPTS, "Redis lock node", options);
}

/**
 * Starts connecting without waiting for the node: a lock node that is down at
 * start-up is a minority outage, not a start-up failure. Resolves once the
 * first connection succeeded or failed.
 */
export async function connectLockClient(client: RedisLockClient): Promise<boolean> {
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  }
}
