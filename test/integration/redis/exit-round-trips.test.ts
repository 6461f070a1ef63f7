import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { connectLockClient, createRedisLockClient } from "../../../src/lock/redis-lock-client.js";
import { Redlock } from "../../../src/lock/redlock.js";
import { createRedisTrackerClient } from "../../../src/store/redis-tracker-client.js";
import { RedisTrackerStore } from "../../../src/store/redis-tracker-store.js";
import { registerTracker } from "../../support/fixtures.js";
import { deferred } from "../../support/gated-lock.js";
import { type RedisServer, startRedisServers } from "../../support/redis-server.js";
import { startTestServer, type TestServer } from "../../support/test-server.js";

interface Command {
  readonly name: string;
  readonly node: string;
  readonly start: number;
  end?: number;
}

/**
 * Every command sent through the wrapped clients, with the order in which it
 * was sent and answered (one counter for both, never the wall clock).
 */
class CommandLog {
  commands: Command[] = [];
  private sequence = 0;
  private waiters: Array<{ done: () => boolean; wake: () => void }> = [];

  wrap<T extends object>(client: T, node: string): T {
    return new Proxy(client, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          const result: unknown = value.apply(target, args);
          if (!(result instanceof Promise)) return result;
          const command: Command = { name: String(property), node, start: ++this.sequence };
          this.commands.push(command);
          const answered = () => {
            command.end = ++this.sequence;
            this.wake();
          };
          return result.then(
            (answer: unknown) => (answered(), answer),
            (error: unknown) => (answered(), Promise.reject(error)),
          );
        };
      },
    });
  }

  /** Resolves once `done()` holds after some command was answered. */
  until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    const waiter = deferred();
    this.waiters.push({ done, wake: () => waiter.resolve() });
    return waiter.promise;
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) {
      if (!waiter.done()) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.wake();
    }
  }
}

/** Sequential round trips: a command is one trip after every command answered before it was sent. */
function roundTrips(commands: readonly Command[]): string[][] {
  const trip = new Map<Command, number>();
  for (const command of commands) {
    const before = commands.filter((other) => other.end !== undefined && other.end < command.start).map((other) => trip.get(other) ?? 0);
    trip.set(command, 1 + Math.max(0, ...before));
  }
  const trips: string[][] = [];
  for (const command of commands) (trips[trip.get(command)! - 1] ??= []).push(`${command.node}.${command.name}`);
  return trips.map((names) => names.sort());
}

describe("ExecuteExit on 3 Redis lock nodes and the Redis tracker store, paper router filling at once", () => {
  let servers: RedisServer[];
  let server: TestServer;
  const log = new CommandLog();
  beforeAll(async () => {
    servers = await startRedisServers(3);
    const storeClient = createRedisTrackerClient(servers[0]!.url);
    await storeClient.connect();
    const lockClients = servers.map((redis) => createRedisLockClient(redis.url));
    await Promise.all(lockClients.map(connectLockClient));
    const store = new RedisTrackerStore(log.wrap(storeClient, "store"), { keyPrefix: "trips:" });
    const lock = new Redlock(lockClients.map((client, index) => log.wrap(client, `lock${index}`)));
    // No reconciler pass during the test: only the exit's own commands are counted.
    server = await startTestServer({ adapters: { store, lock }, config: { reconcilerIntervalMs: 3_600_000 } });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await Promise.all((servers ?? []).map((redis) => redis.destroy()));
  }, 60_000);

  it("makes three sequential round trips before its answer (lock beside load, intent, exited), then releases", async () => {
    const orderNo = await registerTracker(server);
    await log.until(() => log.commands.every((command) => command.end !== undefined));
    const startup = log.commands.length;

    const { result } = await server.exits.executeExit({ orderNo, reason: "stop loss hit", reasonCode: ExitReasonCode.STOP_LOSS });
    expect(result?.status).toBe(ExitStatus.EXITED);
    await log.until(
      () => log.commands.slice(startup).filter((command) => command.name === "redlockRelease" && command.end !== undefined).length === 3,
    );

    expect(roundTrips(log.commands.slice(startup))).toEqual([
      ["lock0.redlockAcquire", "lock1.redlockAcquire", "lock2.redlockAcquire", "store.hGetAll"],
      ["store.trackerCompareAndSet"],
      ["store.trackerCompareAndSet"],
      ["lock0.redlockRelease", "lock1.redlockRelease", "lock2.redlockRelease"],
    ]);
  });
});
