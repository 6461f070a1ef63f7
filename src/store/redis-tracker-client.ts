/**
 * The Redis connection of the tracker store (see redis-connection.ts for why
 * commands fail fast while disconnected): one Redis by URL, or the master
 * named by Sentinels, the same commands either way.
 */
import {
  createFailFastRedisClient,
  createFailFastRedisSentinel,
  type RedisConnectionOptions,
  type RedisEndpoint,
} from "../redis-connection.js";
import { PROTECTION_SCRIPTS } from "./redis-protection-scripts.js";
import { TRACKER_SCRIPTS } from "./redis-tracker-scripts.js";

/** The store's scripts: trackers, and the protection states beside them on the same connection. */
const STORE_SCRIPTS = { ...TRACKER_SCRIPTS, ...PROTECTION_SCRIPTS };

type StandaloneTrackerClient = ReturnType<typeof createStandaloneClient>;

/** What the store's adapters use of a connection; a Sentinel-managed client has all of it too. */
export type RedisTrackerClient = Pick<
  StandaloneTrackerClient,
  | "hGetAll"
  | "hGet"
  | "hSet"
  | "hSetNX"
  | "hDel"
  | "zRangeByLex"
  | "sMembers"
  | "get"
  | "incr"
  | "eval"
  | "trackerRegister"
  | "trackerCompareAndSet"
  | "protectionAdvance"
  | "hmGet"
  | "set"
  | "del"
  | "zAdd"
  | "zRem"
  | "zScore"
  | "xRange"
  | "xRevRange"
  | "scriptFlush"
  | "isOpen"
  | "isReady"
  | "close"
  | "destroy"
> & { connect(): Promise<unknown>; multi(): RedisTrackerBatch };

/** Commands queued to go together: MULTI/EXEC (`exec`), or back to back on one connection (`execAsPipeline`). */
export interface RedisTrackerBatch {
  hSet(key: string, fields: Record<string, string>): RedisTrackerBatch;
  incr(key: string): RedisTrackerBatch;
  sAdd(key: string, member: string): RedisTrackerBatch;
  wait(replicas: number, timeoutMs: number): RedisTrackerBatch;
  exec(): Promise<unknown[]>;
  execAsPipeline(): Promise<unknown[]>;
}

/** A client with the scripts attached; call `connect()` before use. */
export function createRedisTrackerClient(endpoint: string | RedisEndpoint, options: RedisConnectionOptions = {}): RedisTrackerClient {
  const target: RedisEndpoint = typeof endpoint === "string" ? { kind: "url", url: endpoint } : endpoint;
  if (target.kind === "url") return createStandaloneClient(target.url, options);
  return createFailFastRedisSentinel(target, STORE_SCRIPTS, "Redis tracker store", options);
}

function createStandaloneClient(url: string, options: RedisConnectionOptions) {
  return createFailFastRedisClient(url, STORE_SCRIPTS, "Redis tracker store", options);
}
