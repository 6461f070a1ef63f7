/**
 * The protection-refresh rows of `npm run bench`: what one process's
 * `refresh` costs on a Redis holding `trackers` ACTIVE trackers with exit
 * plans, when nothing changed since the last one (the steady state of a
 * fleet), measured side by side in one run, rounds alternating:
 *
 * - full read: every ACTIVE tracker and its protection state (the refresh
 *   without a change log, and the one at start or after a gap);
 * - change log: one XRANGE of the log from the last entry seen.
 *
 * Both on their own connection to one redis-server of their own (no other
 * client), each with a book already holding every tracker. Commands are
 * counted by that server (INFO stats total_commands_processed, less what
 * the counting costs).
 */
import { createClient } from "redis";
import { Segment, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { Money } from "../domain/money.js";
import type { ExitLog, ProtectionStates, TrackerStore } from "../exit/ports.js";
import { ProtectionBook } from "../protection/protection-book.js";
import type { ProtectionChangeLog } from "../protection/protection-change-log.js";
import { ProtectionSync } from "../protection/protection-sync.js";
import { RedisProtectionChangeLog } from "../store/redis-protection-change-log.js";
import { RedisProtectionStates } from "../store/redis-protection-states.js";
import { createRedisTrackerClient, type RedisTrackerClient } from "../store/redis-tracker-client.js";
import { RedisTrackerStore } from "../store/redis-tracker-store.js";
import { type LatencySummary, summarize } from "./latency-stats.js";
import { RedisServer } from "./redis-server-process.js";

export interface RefreshBenchSettings {
  readonly trackers: number;
  readonly rounds: number;
  /** Refreshes of each kind timed per round. */
  readonly refreshes: number;
}

export interface RefreshRow {
  readonly ms: LatencySummary;
  readonly commandsPerRefresh: number;
}

export interface RefreshBenchResult {
  readonly trackers: number;
  readonly fullRead: RefreshRow;
  readonly changeLog: RefreshRow;
}

const quiet: ExitLog = { info() {}, warn() {}, error() {} };
const COMMAND_TIMEOUT_MS = 30_000;

export async function measureRefresh(settings: RefreshBenchSettings): Promise<RefreshBenchResult> {
  const server = await RedisServer.start();
  try {
    return await measureOn(server.url, settings);
  } finally {
    await server.destroy();
  }
}

async function measureOn(redisUrl: string, settings: RefreshBenchSettings): Promise<RefreshBenchResult> {
  const keyPrefix = "bench-refresh:";
  const clients: RedisTrackerClient[] = [];
  const connect = async () => {
    const client = createRedisTrackerClient(redisUrl);
    await client.connect();
    clients.push(client);
    return client;
  };
  const counter = createClient({ url: redisUrl });
  await counter.connect();
  try {
    const writer = new RedisTrackerStore(await connect(), { keyPrefix, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    await registerArmed(writer, settings.trackers);
    const kinds = {
      fullRead: await refresherOn(await connect(), keyPrefix, undefined),
      changeLog: await refresherOn(
        await connect(),
        keyPrefix,
        (client) => new RedisProtectionChangeLog(client, keyPrefix, COMMAND_TIMEOUT_MS),
      ),
    };
    const commands = async () => Number(/total_commands_processed:(\d+)/.exec(await counter.info("stats"))?.[1]);
    // What two readings of the counter add by themselves.
    const idle = -(await commands()) + (await commands());
    const samples = { fullRead: [] as number[], changeLog: [] as number[] };
    const counted = { fullRead: 0, changeLog: 0 };
    for (let round = 0; round < settings.rounds; round++) {
      const order = round % 2 === 0 ? (["fullRead", "changeLog"] as const) : (["changeLog", "fullRead"] as const);
      for (const kind of order) {
        const before = await commands();
        for (let i = 0; i < settings.refreshes; i++) {
          const started = performance.now();
          await kinds[kind].refresh();
          samples[kind].push(performance.now() - started);
        }
        counted[kind] += (await commands()) - before - idle;
      }
    }
    const row = (kind: keyof typeof samples): RefreshRow => ({
      ms: summarize(samples[kind]),
      commandsPerRefresh: counted[kind] / (settings.rounds * settings.refreshes),
    });
    return { trackers: settings.trackers, fullRead: row("fullRead"), changeLog: row("changeLog") };
  } finally {
    await counter.sendCommand([
      "EVAL",
      "for _, k in ipairs(redis.call('keys', ARGV[1])) do redis.call('unlink', k) end",
      "0",
      `${keyPrefix}*`,
    ]);
    await counter.quit();
    await Promise.all(clients.map((client) => client.close()));
  }
}

/** A process's refresh on a connection of its own: a book, the store, the states, the log when given; one refresh done. */
async function refresherOn(
  client: RedisTrackerClient,
  keyPrefix: string,
  log: ((client: RedisTrackerClient) => ProtectionChangeLog) | undefined,
): Promise<ProtectionSync> {
  const store: TrackerStore = new RedisTrackerStore(client, { keyPrefix, commandTimeoutMs: COMMAND_TIMEOUT_MS });
  const states: ProtectionStates = new RedisProtectionStates(client, keyPrefix, COMMAND_TIMEOUT_MS);
  const book = new ProtectionBook({ staleAfterMs: 5_000 }, Date.now, () => false);
  const sync = new ProtectionSync(book, store, states, quiet, { refreshMs: 0, flushMs: 60_000 }, log?.(client));
  await sync.refresh();
  if (book.size === 0) throw new Error("bench refresh: the first refresh found no tracker");
  return sync;
}

async function registerArmed(store: RedisTrackerStore, trackers: number): Promise<void> {
  const exitPlan = { stopLoss: { kind: "points" as const, value: new Money("5") }, version: 1 };
  for (let from = 0; from < trackers; from += 200) {
    const batch = Array.from({ length: Math.min(200, trackers - from) }, (_, i) => from + i);
    await Promise.all(
      batch.map((i) =>
        store.register(
          {
            orderNo: `R${String(i).padStart(6, "0")}`,
            segment: Segment.NSE_FNO,
            securityId: String(40_000 + (i % 1_000)),
            symbol: "NIFTY",
            side: Side.LONG,
            quantity: new Money("75"),
            entryPrice: new Money("120"),
            status: TrackerStatus.ACTIVE,
            paper: true,
            meta: {},
            exitPlan,
          },
          Date.now(),
        ),
      ),
    );
  }
}

export function formatRefresh(result: RefreshBenchResult): string {
  const line = (label: string, row: RefreshRow) =>
    `  ${label}: ${row.commandsPerRefresh.toFixed(1)} Redis commands, p50 ${row.ms.p50.toFixed(2)} ms, p99 ${row.ms.p99.toFixed(2)} ms (${row.ms.count} refreshes)`;
  return [
    `protection refresh with no change (${result.trackers} ACTIVE trackers with plans, per refresh):`,
    line("full read (every tracker + its state)", result.fullRead),
    line("change log (XRANGE from the last entry)", result.changeLog),
    `  full read / change log: ${(result.fullRead.ms.p50 / result.changeLog.ms.p50).toFixed(0)}x the time, ${(result.fullRead.commandsPerRefresh / Math.max(1, result.changeLog.commandsPerRefresh)).toFixed(0)}x the commands`,
  ].join("\n");
}
