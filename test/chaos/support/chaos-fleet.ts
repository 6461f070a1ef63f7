/**
 * The processes a chaos scenario runs against: three Redis lock nodes, the
 * tracker store's Redis (which also holds the shared paper order book), both
 * with an fsynced append-only file, and several tradingcore servers on all
 * of them. Every process is on loopback, on a port the OS picked, and is
 * controlled (killed, paused, restarted) by its pid only. `dispose` stops
 * all of them, paused ones included, and is safe to call after a failure.
 */
import { Segment } from "../../../gen/tradingcore/v1/common_pb.js";
import type { TradingCoreProcess } from "../../../src/loadtest/tradingcore-process.js";
import { RedisServer, startRedisServers } from "../../../src/loadtest/redis-server-process.js";
import { type ServerBuild, type StartServer, serverStarter } from "./server-launcher.js";

export interface FleetSettings {
  readonly servers: number;
  readonly build: ServerBuild;
  readonly lockTtlMs: number;
  readonly routerTimeoutMs: number;
  readonly unknownOrderGraceMs: number;
  readonly reconcilerGraceMs: number;
  readonly reconcilerIntervalMs: number;
  /** The scenario's seed: each server's paper router draws its faults from a seed derived from it and the server's index. */
  readonly seed: number;
  /** Flags every server gets after the common ones. */
  readonly args?: readonly string[];
  /** Flags only server `index` gets (after `args`), at its first start. */
  readonly argsFor?: (index: number) => readonly string[];
}

export const CHAOS_KEY_PREFIX = "chaos:";
/** The one instrument every chaos tracker is on, and the price its ticks carry. */
export const CHAOS_INSTRUMENT = { segment: Segment.NSE_FNO, securityId: "52175" } as const;

/** Server `index`'s paper router seed: the same for the same scenario seed, different per server. */
export function paperSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, index + 1) >>> 0) % 4_294_967_295;
}

export class ChaosFleet {
  private readonly slots: Array<TradingCoreProcess | undefined> = [];
  /** Every server process this fleet started, killed ones included, for their logs. */
  readonly history: TradingCoreProcess[] = [];
  private readonly paused = new Set<number>();

  private constructor(
    readonly settings: FleetSettings,
    readonly store: RedisServer,
    readonly lockNodes: readonly RedisServer[],
    private readonly startServer: StartServer,
  ) {}

  /** Starts the Redis processes, then the servers one after another (so a failure leaves nothing unstopped). */
  static async start(settings: FleetSettings): Promise<ChaosFleet> {
    const [store, lockNodes] = await Promise.all([RedisServer.start({ appendOnly: true }), startRedisServers(3, { appendOnly: true })]);
    const fleet = new ChaosFleet(settings, store, lockNodes, await serverStarter(settings.build));
    try {
      await Promise.all(Array.from({ length: settings.servers }, (_, index) => fleet.launch(index, settings.argsFor?.(index) ?? [])));
      return fleet;
    } catch (error) {
      await fleet.dispose();
      throw error;
    }
  }

  /** `host:port` of every server that runs and is not paused. */
  get addresses(): string[] {
    return this.slots.flatMap((server, index) => (server && !this.paused.has(index) ? [server.address] : []));
  }

  server(index: number): TradingCoreProcess {
    const server = this.slots[index];
    if (!server) throw new Error(`chaos server ${index} is not running`);
    return server;
  }

  /** Every server running and not paused, every Redis up: fit for another run. */
  get whole(): boolean {
    return (
      this.slots.length === this.settings.servers &&
      this.slots.every(Boolean) &&
      this.paused.size === 0 &&
      this.store.isRunning &&
      this.lockNodes.every((node) => node.isRunning)
    );
  }

  /** How many log lines each server has written so far; `errorMessages` counts from such a mark. */
  logMark(): Map<TradingCoreProcess, number> {
    return new Map(this.history.map((server) => [server, server.lines.length]));
  }

  /** Every pid the fleet controls right now (servers and Redis). */
  get pids(): number[] {
    return [
      ...this.slots.flatMap((server) => (server ? [server.pid] : [])),
      ...[this.store, ...this.lockNodes].flatMap((redis) => (redis.pid ? [redis.pid] : [])),
    ];
  }

  /** Kills server `index` with `signal` (SIGKILL: a crash, no clean-up) and waits for it to be gone. */
  async kill(index: number, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const server = this.slots[index];
    if (!server) return;
    if (this.paused.delete(index)) process.kill(server.pid, "SIGCONT");
    await server.stop(signal);
    this.slots[index] = undefined;
  }

  /** Starts server `index` again (new ports) with `args` in place of its first start's own flags. */
  async restart(index: number, args: readonly string[] = []): Promise<TradingCoreProcess> {
    await this.kill(index, "SIGTERM");
    return this.launch(index, args);
  }

  /** SIGSTOP: the process keeps its sockets and its state but runs nothing, as in a long GC or VM pause. */
  pause(index: number): void {
    process.kill(this.server(index).pid, "SIGSTOP");
    this.paused.add(index);
  }

  resume(index: number): void {
    process.kill(this.server(index).pid, "SIGCONT");
    this.paused.delete(index);
  }

  /** Stops every server (a paused one is resumed first), then every Redis; never throws. */
  async dispose(): Promise<void> {
    await Promise.all(
      this.slots.map(async (server, index) => {
        if (!server) return;
        if (this.paused.delete(index)) process.kill(server.pid, "SIGCONT");
        await server.stop("SIGKILL").catch(() => undefined);
        this.slots[index] = undefined;
      }),
    );
    await Promise.all([this.store, ...this.lockNodes].map((redis) => redis.destroy().catch(() => undefined)));
  }

  private async launch(index: number, own: readonly string[]): Promise<TradingCoreProcess> {
    const s = this.settings;
    const args = [
      "--redis-url",
      this.store.url,
      "--redis-lock-urls",
      this.lockNodes.map((node) => node.url).join(","),
      "--redis-key-prefix",
      CHAOS_KEY_PREFIX,
      "--lock-ttl-ms",
      String(s.lockTtlMs),
      // A loaded two-core machine answers slowly; the bound must stay below a third of the TTL.
      "--lock-node-timeout-ms",
      String(Math.min(1_000, Math.floor(s.lockTtlMs / 3) - 1)),
      "--router-timeout-ms",
      String(s.routerTimeoutMs),
      "--unknown-order-grace-ms",
      String(s.unknownOrderGraceMs),
      "--reconciler-grace-ms",
      String(s.reconcilerGraceMs),
      "--reconciler-interval-ms",
      String(s.reconcilerIntervalMs),
      // The default 50 ms LTP hop budget misses under this much load; a miss is not what these scenarios test.
      "--ltp-redis-hop-timeout-ms",
      "2000",
      "--log-level",
      "info",
      "--paper-seed",
      String(paperSeed(s.seed, index)),
      ...(s.args ?? []),
      ...own,
    ];
    const server = await this.startServer({ engine: "grpc-js", args, startTimeoutMs: 90_000 });
    this.slots[index] = server;
    this.history.push(server);
    return server;
  }
}
