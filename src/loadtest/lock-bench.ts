/**
 * Lock acquire+release throughput of our Redlock (node-redis v5) against
 * `@sesamecare-oss/redlock` (ioredis) on the same three local redis-server
 * processes, which this tool starts and stops itself. Rounds alternate
 * between the two in one run, so the box's noise hits both alike; the ratio
 * is what to compare across runs, not the absolute figures.
 *
 *   npm run bench:lock -- [--rounds 10] [--round-ms 500] [--concurrency 1,32,64]
 *
 * Each worker loops acquire → release on its own resources (no contention:
 * this measures the lock's own cost, not waiting). Ours does more per
 * acquisition than the baseline (a second round trip publishes the fencing
 * token, and each lease arms its auto-extension timers).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { Redlock as SesameRedlock } from "@sesamecare-oss/redlock";
import { connectLockClient, createRedisLockClient } from "../lock/redis-lock-client.js";
import { Redlock } from "../lock/redlock.js";
import { startRedisServers } from "./redis-server-process.js";

const TTL_MS = 10_000;

interface Contender {
  readonly name: string;
  /** One acquire followed by its release. */
  cycle(resource: string): Promise<void>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "10" },
      "round-ms": { type: "string", default: "500" },
      concurrency: { type: "string", default: "1,32,64" },
      nodes: { type: "string", default: "3" },
    },
  });
  const rounds = positiveInt(values.rounds, "--rounds");
  const roundMs = positiveInt(values["round-ms"], "--round-ms");
  const levels = values.concurrency.split(",").map((level) => positiveInt(level, "--concurrency"));
  const servers = await startRedisServers(positiveInt(values.nodes, "--nodes"));
  const nodeClients = servers.map((server) => createRedisLockClient(server.url));
  const ioClients = servers.map((server) => new Redis(server.port, "127.0.0.1", { lazyConnect: false }));
  try {
    await Promise.all(nodeClients.map(connectLockClient));
    // No per-node timeout in the baseline; ours gets a generous one so a queue on a loaded box is not counted as an outage.
    const ours = new Redlock(nodeClients, { nodeTimeoutMs: 2_000 });
    const theirs = new SesameRedlock(ioClients, { retryCount: 0 });
    const contenders: Contender[] = [
      {
        name: "tradingcore Redlock (node-redis v5)",
        async cycle(resource) {
          const acquired = await ours.acquire(resource, TTL_MS);
          if (acquired.kind !== "acquired") throw new Error(`ours: ${acquired.kind}`);
          await ours.release(acquired.lease);
        },
      },
      {
        name: "@sesamecare-oss/redlock (ioredis)",
        async cycle(resource) {
          const lock = await theirs.acquire([resource], TTL_MS);
          await lock.release();
        },
      },
    ];
    console.log(
      `Redlock acquire+release on ${servers.length} local redis-server nodes: ${rounds} back-to-back pairs of ${roundMs} ms rounds, order alternating`,
    );
    for (const concurrency of levels) {
      for (const contender of contenders) await runRound(contender, concurrency, 300); // warm-up
      const totals = contenders.map(() => ({ ops: 0, ms: 0, failed: 0, clientCpuUs: 0, serverCpuUs: 0 }));
      const serverPids = servers.map((server) => server.pid).filter((pid): pid is number => pid !== undefined);
      const pairRatios: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? [0, 1] : [1, 0];
        const rate: number[] = [];
        for (const index of order) {
          const serverBefore = serverCpuUs(serverPids);
          const clientBefore = process.cpuUsage();
          const result = await runRound(contenders[index]!, concurrency, roundMs);
          const client = process.cpuUsage(clientBefore);
          totals[index]!.clientCpuUs += client.user + client.system;
          totals[index]!.serverCpuUs += serverCpuUs(serverPids) - serverBefore;
          totals[index]!.ops += result.ops;
          totals[index]!.ms += result.ms;
          totals[index]!.failed += result.failed;
          rate[index] = result.ops / result.ms;
        }
        pairRatios.push(rate[0]! / rate[1]!);
      }
      const rates = totals.map((total) => (total.ops * 1000) / total.ms);
      console.log(`\nconcurrency ${concurrency}`);
      contenders.forEach((contender, i) => {
        const failed = totals[i]!.failed > 0 ? `  (${totals[i]!.failed} cycles failed, not counted)` : "";
        const total = totals[i]!;
        const cpu = `client CPU ${(total.clientCpuUs / total.ops).toFixed(0)} µs, redis-server CPU ${(total.serverCpuUs / total.ops).toFixed(0)} µs per cycle`;
        console.log(`  ${contender.name.padEnd(40)} ${rates[i]!.toFixed(0).padStart(7)} acquire+release/s   ${cpu}${failed}`);
      });
      const sorted = [...pairRatios].sort((a, b) => a - b);
      console.log(
        `  ratio (ours / @sesamecare-oss/redlock)   ${(rates[0]! / rates[1]!).toFixed(2)}x overall, median of ${rounds} back-to-back pairs ${median(sorted).toFixed(2)}x (range ${sorted[0]!.toFixed(2)}-${sorted[sorted.length - 1]!.toFixed(2)})`,
      );
      const cpuPerCycle = totals.map((total) => (total.clientCpuUs + total.serverCpuUs) / total.ops);
      console.log(
        `  CPU per cycle, client + redis-servers: ours uses ${(cpuPerCycle[1]! / cpuPerCycle[0]!).toFixed(2)}x less (less sensitive than throughput to other load on the machine)`,
      );
    }
  } finally {
    await Promise.all(nodeClients.map((client) => (client.isOpen ? client.destroy() : undefined)));
    for (const client of ioClients) client.disconnect();
    await Promise.all(servers.map((server) => server.destroy()));
  }
}

/** Runs `concurrency` workers for `ms`; answers the cycles completed, those that failed and the time taken. */
async function runRound(contender: Contender, concurrency: number, ms: number): Promise<{ ops: number; failed: number; ms: number }> {
  const started = performance.now();
  const until = started + ms;
  let ops = 0;
  let failed = 0;
  let resourceSeq = 0;
  const worker = async (id: number) => {
    while (performance.now() < until) {
      try {
        await contender.cycle(`bench:${id}:${resourceSeq++ % 1024}`);
        ops++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, id) => worker(id)));
  return { ops, failed, ms: performance.now() - started };
}

/** User + system CPU of the given processes so far, µs (from /proc; 0 where it cannot be read). */
function serverCpuUs(pids: readonly number[]): number {
  const ticksPerSecond = 100; // USER_HZ on Linux
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / ticksPerSecond;
    } catch {
      // not Linux, or the process is gone: CPU is then not reported
    }
  }
  return total;
}

function median(sorted: readonly number[]): number {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function positiveInt(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${flag} must be a positive integer, got "${text}"`);
  return value;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
