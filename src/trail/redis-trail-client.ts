/**
 * The Redis connections of the exit trail: one for appends and reads, with
 * the append script attached, and one for the follower, whose blocking XREAD
 * would otherwise hold up every command queued behind it.
 *
 * Each reaches one Redis by URL or the master a set of Sentinels names, as
 * the tracker store's connection does, and follows a failover by itself. A
 * Sentinel-managed client sends every command through a pool of connections
 * to the master; each of the two is its own Sentinel client with a pool of
 * one, so the follower's blocking read never holds the connection an append
 * waits for, and the commands of one pipeline reach one server.
 */
import {
  createFailFastRedisClient,
  createFailFastRedisSentinel,
  type RedisConnectionOptions,
  type RedisEndpoint,
} from "../redis-connection.js";
import { TRAIL_SCRIPTS } from "./redis-trail-scripts.js";

/** Raw commands sent back to back on one connection (`execAsPipeline`), so they reach the same server. */
export interface RedisTrailBatch {
  sendCommand(args: string[]): RedisTrailBatch;
  execAsPipeline(): Promise<unknown[]>;
}

/** What the follower uses of a connection. */
export interface RedisTrailFollowerClient {
  /** One raw command; the reply as Redis sent it. */
  sendCommand(args: string[]): Promise<unknown>;
  multi(): RedisTrailBatch;
  connect(): Promise<unknown>;
  readonly isOpen: boolean;
  readonly isReady: boolean;
  close(): Promise<unknown>;
  destroy(): unknown;
}

/** The append batch: the script, then raw commands (the WAIT that confirms it) on the same connection. */
export interface RedisTrailAppendBatch {
  trailAppend(keys: readonly [string, string, string], args: readonly string[]): RedisTrailAppendBatch;
  sendCommand(args: string[]): RedisTrailAppendBatch;
  execAsPipeline(): Promise<unknown[]>;
}

/** What the trail uses of its connection: raw reads, the two scripts, pipelines. */
export interface RedisTrailClient extends Omit<RedisTrailFollowerClient, "multi"> {
  trailAppend(keys: readonly [string, string, string], args: readonly string[]): Promise<number>;
  trailSequenceBefore(key: string, ms: number): Promise<number>;
  multi(): RedisTrailAppendBatch;
}

/** A client with the append script attached; call `connect()` before use. */
export function createRedisTrailClient(endpoint: string | RedisEndpoint, options: RedisConnectionOptions = {}): RedisTrailClient {
  const target = endpointOf(endpoint);
  if (target.kind === "url") return createFailFastRedisClient(target.url, TRAIL_SCRIPTS, "Redis exit trail", options);
  return new SentinelTrailClient(createFailFastRedisSentinel(target, TRAIL_SCRIPTS, "Redis exit trail", options));
}

/** A client for the follower's blocking reads; call `connect()` before use. */
export function createRedisTrailFollowerClient(
  endpoint: string | RedisEndpoint,
  options: RedisConnectionOptions = {},
): RedisTrailFollowerClient {
  const target = endpointOf(endpoint);
  if (target.kind === "url") return createFailFastRedisClient(target.url, {}, "Redis exit trail follower", options);
  return new SentinelFollowerClient(createFailFastRedisSentinel(target, {}, "Redis exit trail follower", options));
}

function endpointOf(endpoint: string | RedisEndpoint): RedisEndpoint {
  return typeof endpoint === "string" ? { kind: "url", url: endpoint } : endpoint;
}

type TrailSentinel = ReturnType<typeof createFailFastRedisSentinel<typeof TRAIL_SCRIPTS>>;

/** What of a Sentinel client, with or without scripts, the follower's interface is made of. */
interface FollowerSentinel {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): Promise<unknown>;
  sendCommand(isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  multi(): RedisTrailBatch;
}

/** A Sentinel client seen through the follower's interface: its `sendCommand` takes a read-only flag first. */
class SentinelFollowerClient implements RedisTrailFollowerClient {
  constructor(private readonly sentinel: FollowerSentinel) {}

  get isOpen(): boolean {
    return this.sentinel.isOpen;
  }

  get isReady(): boolean {
    return this.sentinel.isReady;
  }

  connect(): Promise<unknown> {
    return this.sentinel.connect();
  }

  close(): Promise<unknown> {
    return this.sentinel.close();
  }

  destroy(): Promise<unknown> {
    return this.sentinel.destroy();
  }

  sendCommand(args: string[]): Promise<unknown> {
    // Not read-only: the master answers it (there are no replica connections anyway).
    return this.sentinel.sendCommand(false, args);
  }

  multi(): RedisTrailBatch {
    return this.sentinel.multi();
  }
}

class SentinelTrailClient extends SentinelFollowerClient implements RedisTrailClient {
  constructor(private readonly trailSentinel: TrailSentinel) {
    super(trailSentinel);
  }

  trailAppend(keys: readonly [string, string, string], args: readonly string[]): Promise<number> {
    return this.trailSentinel.trailAppend(keys, args);
  }

  trailSequenceBefore(key: string, ms: number): Promise<number> {
    return this.trailSentinel.trailSequenceBefore(key, ms);
  }

  override multi(): RedisTrailAppendBatch {
    return this.trailSentinel.multi();
  }
}
