/**
 * What tracing adds to one ExecuteExit, measured below the transport, where a
 * shared machine's noise is smallest: `npm run bench:tracing`.
 *
 * One child process per setting (the OpenTelemetry SDK is process-wide):
 * tracing off, then on with `always_off`, a 10 % parent-based ratio and every
 * trace sampled, each exporting over OTLP/proto to a sink in this process.
 * Each child runs the production composition twice over: embedded adapters,
 * and (unless `--no-redis`, or without `redis-server`) the Redis store and
 * Redlock over three `redis-server` nodes this process starts, both with the
 * paper router; it calls the tracing middleware and the exit engine directly,
 * as the ExecuteExit handler does, without gRPC. Rounds alternate between the
 * children, one busy at a time, for each composition; each round registers
 * its trackers first, exports what that left, then times `--calls` exits at
 * c=`--concurrency`, their lock releases and the export of their spans, in
 * the child's CPU (the redis-servers' CPU is not in it).
 * Printed, per composition: µs of CPU per exit for each setting, what
 * each traced setting adds to the untraced one (median of the rounds'
 * differences, with their range, and as a share of the untraced exit), and
 * the garbage collector's pauses per exit in the timed window.
 *
 *   node dist/src/loadtest/tracing-cost.js [--rounds 5] [--calls 4000] [--concurrency 32] [--no-redis] [--json file]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { entryPoint } from "./entry-point.js";
import { startOtlpReceiver } from "./otlp-receiver.js";
import { type RedisServer, startRedisServers } from "./redis-server-process.js";

interface Setting {
  readonly id: string;
  readonly label: string;
  /** The child's environment on top of this one's; undefined: no telemetry at all. */
  readonly env?: Readonly<Record<string, string>>;
}

const SETTINGS: readonly Setting[] = [
  { id: "off", label: "tracing off" },
  { id: "always_off", label: "tracing on, OTEL_TRACES_SAMPLER=always_off", env: { OTEL_TRACES_SAMPLER: "always_off" } },
  {
    id: "ratio_0.1",
    label: "tracing on, 10% parent-based ratio",
    env: { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" },
  },
  { id: "sampled", label: "tracing on, every trace sampled", env: { OTEL_TRACES_SAMPLER: "parentbased_always_on" } },
];

/** The compositions each child runs exits on. */
const TARGETS = [
  { id: "embedded", label: "embedded" },
  { id: "redis", label: "Redis (3 lock nodes + store)" },
] as const;

interface RoundAnswer {
  readonly cpuMicros: number;
  readonly gcMicros: number;
  readonly calls: number;
  readonly exited: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "5" },
      calls: { type: "string", default: "4000" },
      concurrency: { type: "string", default: "32" },
      "no-redis": { type: "boolean", default: false },
      json: { type: "string" },
    },
  });
  const rounds = positive(values.rounds, "--rounds");
  const calls = positive(values.calls, "--calls");
  const concurrency = positive(values.concurrency, "--concurrency");
  const withRedis = !values["no-redis"] && existsSync(process.env.REDIS_SERVER_BIN ?? "/usr/bin/redis-server");
  const targets = withRedis ? TARGETS : TARGETS.filter((target) => target.id !== "redis");
  const sink = await startOtlpReceiver({ decode: false });
  const children = new Map<string, Child>();
  let redisServers: RedisServer[] = [];
  try {
    redisServers = withRedis ? await startRedisServers(3) : [];
    const redisArgs = withRedis ? ["--redis", redisServers.map((server) => server.url).join(",")] : [];
    for (const setting of SETTINGS) children.set(setting.id, await startChild(setting, sink.endpoint, redisArgs));
    process.stderr.write(
      `tracing cost: ${SETTINGS.length} settings × ${targets.map((target) => target.id).join(", ")}, warm-up + ${rounds} rounds of ${calls} exits at c=${concurrency}\n`,
    );
    for (const target of targets)
      for (const setting of SETTINGS) await children.get(setting.id)!.round(Math.min(calls, 2_000), concurrency, target.id);
    const perExit = new Map<string, number[]>();
    const gcPerExit = new Map<string, number[]>();
    for (const target of targets)
      for (const setting of SETTINGS) {
        perExit.set(`${target.id}/${setting.id}`, []);
        gcPerExit.set(`${target.id}/${setting.id}`, []);
      }
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? SETTINGS : [...SETTINGS].reverse();
      for (const target of targets)
        for (const setting of order) {
          const answer = await children.get(setting.id)!.round(calls, concurrency, target.id);
          if (answer.exited !== answer.calls)
            throw new Error(`${target.id}/${setting.id}: ${answer.calls - answer.exited} of ${answer.calls} exits did not exit`);
          perExit.get(`${target.id}/${setting.id}`)!.push(answer.cpuMicros / answer.calls);
          gcPerExit.get(`${target.id}/${setting.id}`)!.push(answer.gcMicros / answer.calls);
        }
    }
    const rows = targets.flatMap((target) => {
      const off = perExit.get(`${target.id}/off`)!;
      return SETTINGS.map((setting) => {
        const figures = perExit.get(`${target.id}/${setting.id}`)!;
        const added = figures.map((value, index) => value - off[index]!);
        const shares = added.map((value, index) => value / off[index]!);
        const gc = gcPerExit.get(`${target.id}/${setting.id}`)!;
        return {
          target: target.id,
          id: setting.id,
          label: `${target.label}, ${setting.label}`,
          cpuMicrosPerExit: median(figures),
          addedMicros: median(added),
          addedRange: [Math.min(...added), Math.max(...added)] as const,
          addedShare: median(shares),
          addedShareRange: [Math.min(...shares), Math.max(...shares)] as const,
          gcMicrosPerExit: median(gc),
          gcRange: [Math.min(...gc), Math.max(...gc)] as const,
          rounds: figures,
        };
      });
    });
    const header = ["exit, setting", "CPU µs/exit", "added µs (rounds)", "added share (rounds)", "GC pauses µs/exit (rounds)"];
    const lines = rows.map((row) => [
      row.label,
      row.cpuMicrosPerExit.toFixed(1),
      row.id === "off" ? "—" : `${row.addedMicros.toFixed(1)} (${row.addedRange[0].toFixed(1)} to ${row.addedRange[1].toFixed(1)})`,
      row.id === "off" ? "—" : `${percent(row.addedShare)} (${percent(row.addedShareRange[0])} to ${percent(row.addedShareRange[1])})`,
      `${row.gcMicrosPerExit.toFixed(1)} (${row.gcRange[0].toFixed(1)} to ${row.gcRange[1].toFixed(1)})`,
    ]);
    const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
    for (const line of [header, widths.map((width) => "-".repeat(width)), ...lines])
      process.stdout.write(
        `${line.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ")}\n`,
      );
    const report = { settings: { rounds, calls, concurrency, redisNodes: redisServers.length, node: process.version }, rows };
    process.stdout.write(`\n${JSON.stringify(report)}\n`);
    if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await Promise.all([...children.values()].map((child) => child.stop()));
    await sink.close();
    await Promise.all(redisServers.map((server) => server.destroy()));
  }
}

interface Child {
  round(calls: number, concurrency: number, target: string): Promise<RoundAnswer>;
  stop(): Promise<void>;
}

async function startChild(setting: Setting, otlpEndpoint: string, redisArgs: readonly string[]): Promise<Child> {
  const child = entryPoint(import.meta.url, "./tracing-cost-child.ts");
  const args = [...(setting.env ? ["--otlp", otlpEndpoint] : []), ...redisArgs];
  const env = { ...process.env, OTEL_TRACES_SAMPLER: "", OTEL_TRACES_SAMPLER_ARG: "", ...setting.env };
  // As for `npm run bench`: BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") goes to the measured processes' node.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter((arg) => arg !== "");
  const process_ = spawn(process.execPath, [...nodeArgs, ...child.nodeArgs, ...args], { stdio: ["pipe", "pipe", "inherit"], env });
  const answers = lineReader(process_);
  await answers.next(); // "ready"
  return {
    async round(calls, concurrency, target) {
      process_.stdin!.write(`${JSON.stringify({ calls, concurrency, target })}\n`);
      return JSON.parse(await answers.next()) as RoundAnswer;
    },
    stop: () => stopChild(process_),
  };
}

/** The child's stdout, a line at a time; rejects when the child exits first. */
function lineReader(child: ChildProcess): { next(): Promise<string> } {
  let buffered = "";
  const lines: string[] = [];
  let waiting: { resolve: (line: string) => void; reject: (error: Error) => void } | undefined;
  child.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      lines.push(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
    if (waiting && lines.length > 0) {
      const { resolve } = waiting;
      waiting = undefined;
      resolve(lines.shift()!);
    }
  });
  child.once("exit", (code) => waiting?.reject(new Error(`tracing-cost child exited with ${code}`)));
  return {
    next: () => {
      const line = lines.shift();
      if (line !== undefined) return Promise.resolve(line);
      return new Promise((resolve, reject) => (waiting = { resolve, reject }));
    },
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin?.end(); // the child stops when its stdin closes
  });
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function positive(text: string | undefined, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a positive integer, got "${text}"`);
  return value;
}

main().catch((error: unknown) => {
  process.stderr.write(`tracing-cost: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
