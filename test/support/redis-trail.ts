/** RedisExitTrails on one shared redis-server, each in its own key namespace unless told to share one. */
import { randomUUID } from "node:crypto";
import { createClient } from "redis";
import { afterAll, beforeAll } from "vitest";
import type { TrailRetention } from "../../src/exit/exit-trail.js";
import type { Clock, ExitLog } from "../../src/exit/ports.js";
import type { StillRecorded } from "../../src/exit/recorded-events.js";
import { RedisExitTrail } from "../../src/trail/redis-exit-trail.js";
import { createRedisTrailClient, createRedisTrailFollowerClient } from "../../src/trail/redis-trail-client.js";
import { RedisTrailFollower } from "../../src/trail/redis-trail-follower.js";
import { TRAIL_SCRIPTS } from "../../src/trail/redis-trail-scripts.js";
import { RedisServer } from "./redis-server.js";

const QUIET: ExitLog = { info() {}, warn() {}, error() {} };

export interface TrailOptions {
  readonly clock: Clock;
  readonly retention: TrailRetention;
  readonly process?: string;
  /** Share a namespace with another trail (another process of the fleet); a fresh one when absent. */
  readonly keyPrefix?: string;
  readonly log?: ExitLog;
  /** The tracker store's answer for events sent again after a failed append (RedisExitTrailOptions.recorded). */
  readonly recorded?: StillRecorded;
  /** The first appends that fail (as on a connection lost mid-call) before the real ones go through. */
  readonly failingAppends?: number;
}

/** `client` with its first `failures` appends rejected before they reach Redis. */
function withFailingAppends<T extends { trailAppend: (...args: never[]) => Promise<unknown> }>(client: T, failures: number): T {
  let left = failures;
  return new Proxy(client, {
    get(target, property) {
      if (property === "trailAppend" && left > 0) {
        return () => {
          left--;
          return Promise.reject(new Error("connection lost before the append's reply"));
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

export class RedisTrailHarness {
  private readonly clients: Array<{ isOpen: boolean; destroy(): void }> = [];
  private readonly trails: RedisExitTrail[] = [];

  constructor(readonly server: RedisServer) {}

  async trail(options: TrailOptions): Promise<RedisExitTrail> {
    const client = createRedisTrailClient(this.server.url);
    const followerClient = createRedisTrailFollowerClient(this.server.url);
    await Promise.all([client.connect(), followerClient.connect()]);
    this.clients.push(client, followerClient);
    const keyPrefix = options.keyPrefix ?? `trail:${randomUUID()}:`;
    const log = options.log ?? QUIET;
    const trail = new RedisExitTrail(
      options.failingAppends ? withFailingAppends(client, options.failingAppends) : client,
      new RedisTrailFollower(followerClient, `${keyPrefix}exit-trail`, options.clock, log),
      options.clock,
      log,
      {
        keyPrefix,
        retention: options.retention,
        process: options.process ?? "test-process",
        commandTimeoutMs: 5_000,
        ...(options.recorded ? { recorded: options.recorded } : {}),
      },
    );
    this.trails.push(trail);
    return trail;
  }

  /** A plain connected client, for looking at what the trail wrote and for CONFIG SET. */
  async inspector() {
    const client = createClient({ url: this.server.url, scripts: TRAIL_SCRIPTS });
    await client.connect();
    this.clients.push(client);
    return client;
  }

  /** Closes every trail and connection made so far (the server keeps running). */
  async release(): Promise<void> {
    await Promise.all(this.trails.splice(0).map((trail) => trail.close(5_000)));
    for (const client of this.clients.splice(0)) if (client.isOpen) client.destroy();
  }
}

/** One redis-server for the calling test file, its stream nodes small so that approximate trimming is close. */
export function redisTrailHarnessForFile(timeoutMs = 60_000): () => RedisTrailHarness {
  let harness: RedisTrailHarness | undefined;
  beforeAll(async () => {
    harness = new RedisTrailHarness(await RedisServer.start());
    const inspector = await harness.inspector();
    await inspector.configSet("stream-node-max-entries", "4");
  }, timeoutMs);
  afterAll(async () => {
    await harness?.release();
    await harness?.server.destroy();
  }, timeoutMs);
  return () => {
    if (!harness) throw new Error("the Redis trail harness is not started yet: call it inside a test");
    return harness;
  };
}
