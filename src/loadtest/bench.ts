/**
 * `npm run bench`: side-by-side figures from one run on one machine, with
 * ratios to the floor (a no-op unary on a plain @grpc/grpc-js server). Rows
 * alternate round by round (order reversed every other round), after a
 * warm-up, so the machine's noise hits all of them alike; only the ratios
 * mean anything across runs.
 *
 * Servers run in child processes (client and server each get a core): one
 * with tracing off (floor, ours on grpc-js and connect, ours on Redis), one
 * with tracing on (100% sampled unless `--sampling-ratio`, batch OTLP export to a sink in this process).
 * Redis rows need `redis-server` (3 lock nodes + the tracker store on the first).
 * With Redis, each round also times c=1 PINGs to the first node through
 * node-redis: the bare round trip the Redis exit's latency is read against.
 *
 * Store size: two more plain servers, one holding `--trackers-small` and one
 * `--trackers-large` registered trackers (concurrent RegisterTracker calls),
 * time c=1 ExecuteExit on trackers of their own pools, alternating.
 *
 *   npm run bench -- [--quick] [--rounds 3] [--c1-calls 1500] [--calls 6000]
 *                    [--concurrency 32] [--trackers-small 1000] [--trackers-large 100000]
 *                    [--no-redis] [--no-ghz] [--json bench.json] [--only exit.grpc-js,exit.grpc-js.traced,ingest,trackers,protection,protection.redis,refresh]
 *                    [--sampling-ratio 0.1] [--protection-flush-ms 100]
 *
 * When ghz is in the tools cache (test/interop/setup.sh builds it), the floor
 * and the untraced exit rows are also driven at c=N by ghz, a Go client, so
 * this process's own CPU does not set their throughput.
 *
 * `--only` runs the listed rows (the floor always runs: every ratio needs it);
 * `ingest`, `trackers` and `protection` name the ingest, store-size and
 * protective-exit sections (bench-protection.ts); `protection.redis` the
 * protective-exit section again with both servers on Redis, each on a
 * redis-server of its own (the tracker store, the protection states flushed
 * every --protection-flush-ms, the server's default unless given, the ticks
 * written behind), with each redis-server's CPU per tick beside the servers'; `refresh` the cost
 * of a protection refresh on Redis, full read against change log
 * (bench-refresh.ts).
 */
import { existsSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Driver, measureIngest, measureStoreSizes, registerTrackers, type Row, type StoreSize } from "./bench-driver.js";
import { buildReport, formatReport, type RoundFigures, type RowResult, type StoreSizeResult } from "./bench-report.js";
import { startBenchServer, type BenchServerProcess } from "./bench-targets.js";
import { summarize } from "./latency-stats.js";
import { formatGhz, ghzBinary, measureWithGhz, type GhzResult } from "./bench-ghz.js";
import { startOtlpReceiver } from "./otlp-receiver.js";
import { measureRedisPing } from "./redis-ping.js";
import { startRedisServers, type RedisServer } from "./redis-server-process.js";
import { formatProtection, measureProtection, type ProtectionBenchResult, type SideCpu } from "./bench-protection.js";
import { redisServerCpu } from "./redis-server-cpu.js";
import { defaultConfig, SETTINGS } from "../config.js";
import { formatRefresh, measureRefresh, type RefreshBenchResult } from "./bench-refresh.js";

const ROWS: readonly Row[] = [
  { id: "floor", label: "floor: plain grpc-js no-op", telemetry: "off", target: "floor", workload: "noop" },
  { id: "noop.grpc-js", label: "no-op (Health/Check), grpc-js engine", telemetry: "off", target: "grpcJs", workload: "noop" },
  { id: "noop.connect", label: "no-op (Health/Check), connect engine", telemetry: "off", target: "connect", workload: "noop" },
  { id: "ltp.grpc-js", label: "GetLtp memory hit, grpc-js", telemetry: "off", target: "grpcJs", workload: "ltp" },
  { id: "ltp.connect", label: "GetLtp memory hit, connect", telemetry: "off", target: "connect", workload: "ltp" },
  { id: "exit.grpc-js", label: "ExecuteExit embedded, grpc-js", telemetry: "off", target: "grpcJs", workload: "exit" },
  { id: "exit.connect", label: "ExecuteExit embedded, connect", telemetry: "off", target: "connect", workload: "exit" },
  { id: "exit.redis", label: "ExecuteExit 3 Redis lock nodes + Redis store, grpc-js", telemetry: "off", target: "redis", workload: "exit" },
  {
    id: "exit.redis.no-trail",
    label: "ExecuteExit Redis, grpc-js, audit trail in memory",
    telemetry: "off",
    target: "redisNoTrail",
    workload: "exit",
  },
  { id: "noop.grpc-js.traced", label: "no-op, grpc-js, tracing on", telemetry: "tracing", target: "grpcJs", workload: "noop" },
  {
    id: "exit.grpc-js.traced",
    label: "ExecuteExit embedded, grpc-js, tracing on",
    telemetry: "tracing",
    target: "grpcJs",
    workload: "exit",
  },
  { id: "exit.redis.traced", label: "ExecuteExit Redis, grpc-js, tracing on", telemetry: "tracing", target: "redis", workload: "exit" },
  {
    id: "exit.grpc-js.telemetry",
    label: "ExecuteExit embedded, grpc-js, tracing and metrics on",
    telemetry: "tracing+metrics",
    target: "grpcJs",
    workload: "exit",
  },
];

interface Settings {
  readonly quick: boolean;
  readonly rounds: number;
  readonly c1Calls: number;
  readonly calls: number;
  readonly concurrency: number;
  readonly redis: boolean;
  /** Also drive the c=N rows with ghz (when it is installed). */
  readonly ghz: boolean;
  /** Registered trackers on the two store-size servers. */
  readonly trackersSmall: number;
  readonly trackersLarge: number;
  readonly json: string | undefined;
  /** Row ids (and `ingest`, `trackers`) to run; undefined runs everything. */
  readonly only: readonly string[] | undefined;
  /** Share of traces the traced servers sample (parent-based ratio; the bench's calls carry no parent), 0..1. */
  readonly samplingRatio: number;
  /** The protection.redis servers' --protection-flush-ms: what a longer one saves ingest, and Redis. */
  readonly protectionFlushMs: number;
}

function settingsFrom(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      "c1-calls": { type: "string" },
      calls: { type: "string" },
      concurrency: { type: "string", default: "32" },
      "trackers-small": { type: "string" },
      "trackers-large": { type: "string" },
      "no-redis": { type: "boolean", default: false },
      redis: { type: "boolean", default: false },
      "no-ghz": { type: "boolean", default: false },
      json: { type: "string" },
      only: { type: "string" },
      "sampling-ratio": { type: "string" },
      "protection-flush-ms": { type: "string" },
    },
  });
  const only = values.only
    ?.split(",")
    .map((id) => id.trim())
    .filter((id) => id !== "");
  const known = new Set([...ROWS.map((row) => row.id), "ingest", "trackers", "protection", "protection.redis", "refresh"]);
  const unknown = only?.filter((id) => !known.has(id)) ?? [];
  if (unknown.length > 0) throw new Error(`--only: unknown ${unknown.join(", ")}; known: ${[...known].join(", ")}`);
  const quick = values.quick;
  const int = (text: string | undefined, fallback: number, flag: string) => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value <= 0 || value > 1_000_000)
      throw new Error(`${flag} must be a whole number in 1..1000000, got "${text}"`);
    return value;
  };
  const redisAvailable = existsSync(process.env.REDIS_SERVER_BIN ?? "/usr/bin/redis-server");
  return {
    quick,
    rounds: int(values.rounds, quick ? 1 : 3, "--rounds"),
    c1Calls: int(values["c1-calls"], quick ? 30 : 1500, "--c1-calls"),
    calls: int(values.calls, quick ? 200 : 6000, "--calls"),
    concurrency: int(values.concurrency, 32, "--concurrency"),
    trackersSmall: int(values["trackers-small"], quick ? 100 : 1_000, "--trackers-small"),
    trackersLarge: int(values["trackers-large"], quick ? 2_000 : 100_000, "--trackers-large"),
    redis: !values["no-redis"] && redisAvailable && (!quick || values.redis),
    ghz: !values["no-ghz"] && !quick,
    json: values.json,
    only,
    samplingRatio: ratioFrom(values["sampling-ratio"]),
    protectionFlushMs: flushMsFrom(values["protection-flush-ms"]),
  };
}

/** The servers' own setting, parsed and bounded as they would. */
function flushMsFrom(text: string | undefined): number {
  if (text === undefined) return defaultConfig().protectionFlushMs;
  try {
    return SETTINGS.protectionFlushMs.parse(text);
  } catch (error) {
    throw new Error(`--protection-flush-ms: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function ratioFrom(text: string | undefined): number {
  if (text === undefined) return 1;
  const value = Number(text);
  if (!(value > 0 && value <= 1)) throw new Error(`--sampling-ratio must be a number in (0, 1], got "${text}"`);
  return value;
}

async function main(): Promise<void> {
  const settings = settingsFrom(process.argv.slice(2));
  const selected = (id: string) => settings.only === undefined || settings.only.includes(id);
  const rows = ROWS.filter(
    (row) => (settings.redis || (row.target !== "redis" && row.target !== "redisNoTrail")) && (row.id === "floor" || selected(row.id)),
  );
  if (settings.samplingRatio < 1) {
    // The server processes inherit this environment; their SDK reads the sampler from it.
    process.env.OTEL_TRACES_SAMPLER = "parentbased_traceidratio";
    process.env.OTEL_TRACES_SAMPLER_ARG = String(settings.samplingRatio);
  }
  const sink = await startOtlpReceiver({ decode: false });
  const redisServers: RedisServer[] = settings.redis ? await startRedisServers(3) : [];
  // Two stores, not one: a shared one would have the unarmed server learn the armed one's plans from the change log.
  const protectionRedis: RedisServer[] = settings.redis && selected("protection.redis") ? await startRedisServers(2) : [];
  const redisArgs = redisServers.length > 0 ? ["--redis", redisServers.map((server) => server.url).join(",")] : [];
  const processes: BenchServerProcess[] = [];
  const driver = new Driver(settings);
  try {
    const plain = await startBenchServer(["--tracing", "off", ...redisArgs]);
    processes.push(plain);
    const traced = await startBenchServer(["--tracing", "on", "--metrics", "off", "--otlp", sink.endpoint, ...redisArgs]);
    processes.push(traced);
    const observed = rows.some((row) => row.telemetry === "tracing+metrics")
      ? await startBenchServer(["--tracing", "on", "--metrics", "on", "--otlp", sink.endpoint])
      : undefined;
    if (observed) processes.push(observed);
    // The store-size servers start now (in parallel), so their start-up is not inside a measured row.
    const protectionServers = selected("protection")
      ? await Promise.all([startBenchServer(["--tracing", "off"]), startBenchServer(["--tracing", "off"])])
      : [];
    processes.push(...protectionServers);
    const protectionRedisServers = await Promise.all(
      protectionRedis.map((server) =>
        startBenchServer(["--tracing", "off", "--redis", server.url, "--protection-flush-ms", String(settings.protectionFlushMs)]),
      ),
    );
    processes.push(...protectionRedisServers);
    const storeSizeServers = selected("trackers")
      ? await Promise.all([startBenchServer(["--tracing", "off"]), startBenchServer(["--tracing", "off"])])
      : [];
    processes.push(...storeSizeServers);
    const processOf = (row: Row) => (row.telemetry === "tracing" ? traced : row.telemetry === "tracing+metrics" ? observed! : plain);
    const addressOf = (row: Row) => processOf(row).targets[row.target]!;
    const cpuOf = (row: Row) => () => processOf(row).cpuMicros();
    const flushOf = (row: Row) => () => processOf(row).flushSpans();
    process.stderr.write(
      `bench: ${rows.length} rows, warm-up + ${settings.rounds} round(s); c=1 ${settings.c1Calls} calls, c=${settings.concurrency} ${settings.calls} calls per row per round\n`,
    );

    if (!settings.quick)
      for (const row of rows)
        await new Driver({ ...settings, c1Calls: Math.min(200, settings.c1Calls), calls: Math.min(1000, settings.calls) })
          .measure(row, addressOf(row), cpuOf(row), flushOf(row))
          .catch(() => undefined);
    const pings: number[] = [];
    const totals = new Map(
      rows.map((row) => [
        row.id,
        { latencies: [] as number[], calls: 0, ms: 0, errors: 0, cpuMicros: 0, clientCpuMicros: 0, rounds: [] as RoundFigures[] },
      ]),
    );
    for (let round = 0; round < settings.rounds; round++) {
      const order = round % 2 === 0 ? rows : [...rows].reverse();
      if (redisServers[0]) pings.push(...(await measureRedisPing(redisServers[0].url, settings.c1Calls)));
      for (const row of order) {
        const result = await driver.measure(row, addressOf(row), cpuOf(row), flushOf(row));
        const total = totals.get(row.id)!;
        total.latencies.push(...result.latencies);
        total.calls += result.calls;
        total.ms += result.ms;
        total.errors += result.errors;
        total.cpuMicros += result.cpuMicros;
        total.clientCpuMicros += result.clientCpuMicros;
        total.rounds[round] = { throughput: (result.calls * 1000) / result.ms, serverCpuMicrosPerCall: result.cpuMicros / result.calls };
        process.stderr.write(`  round ${round + 1}: ${row.label}: ${((result.calls * 1000) / result.ms).toFixed(0)} calls/s\n`);
      }
    }
    const ghz = settings.ghz ? ghzBinary() : undefined;
    const ghzRows = rows.filter((row) => row.telemetry === "off" && (row.id === "floor" || row.workload === "exit"));
    const ghzResults: GhzResult[] = ghz
      ? await measureWithGhz(
          ghz,
          ghzRows.map((row) => ({ row, address: addressOf(row), cpu: cpuOf(row) })),
          settings.rounds,
          settings.calls,
          settings.concurrency,
        )
      : [];
    const ingestTargets = selected("ingest")
      ? [
          { id: "ingest.grpc-js", label: "PublishTicks ingest, embedded (memory cache)", address: plain.targets.grpcJs },
          ...(plain.targets.redis
            ? [{ id: "ingest.redis", label: "PublishTicks ingest, Redis write-behind", address: plain.targets.redis }]
            : []),
        ]
      : [];
    const [batches, batchSize] = settings.quick ? [5, 200] : [100, 1000];
    const ingest = [];
    for (const target of ingestTargets) {
      await measureIngest(target.address, Math.min(10, batches), batchSize); // warm-up
      let ticks = 0;
      let ms = 0;
      for (let round = 0; round < settings.rounds; round++) {
        const result = await measureIngest(target.address, batches, batchSize);
        ticks += result.ticks;
        ms += result.ms;
      }
      ingest.push({ id: target.id, label: target.label, ticksPerSecond: (ticks * 1000) / ms });
    }
    const sizes: StoreSize[] = [];
    const [small, large] = storeSizeServers;
    const storeSizeRuns =
      small && large
        ? ([
            ["small", settings.trackersSmall, small],
            ["large", settings.trackersLarge, large],
          ] as const)
        : [];
    for (const [id, trackers, server] of storeSizeRuns) {
      const started = performance.now();
      const pool = await registerTrackers(server.targets.grpcJs, trackers, `S${id[0]}`);
      process.stderr.write(`  registered ${trackers} trackers in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
      sizes.push({ id: `exit.trackers.${id}`, trackers, address: server.targets.grpcJs, pool, next: 0, latencies: [], errors: 0 });
    }
    const warmUp = !settings.quick;
    const perSegment = Math.max(1, Math.min(settings.c1Calls, Math.floor(settings.trackersSmall / (settings.rounds + (warmUp ? 1 : 0)))));
    await measureStoreSizes(driver, sizes, settings.rounds, perSegment, warmUp);
    const storeSizes: StoreSizeResult[] = sizes.map((size) => ({
      id: size.id,
      label: `ExecuteExit embedded, grpc-js, ${size.trackers} trackers registered`,
      trackers: size.trackers,
      c1: summarize(size.latencies),
      errors: size.errors,
    }));
    const protectionSettings = {
      rounds: settings.rounds,
      trackers: settings.quick ? 1_000 : 10_000,
      instruments: 1_000,
      probes: settings.quick ? 20 : 200,
      batches: settings.quick ? 20 : 100,
      batchSize: 1_000,
    };
    const protectionOn = async (servers: BenchServerProcess[], target: "grpcJs" | "redis", stores?: SideCpu) => {
      const [armedServer, bareServer] = servers;
      if (!armedServer || !bareServer) return undefined;
      const cpu = { armed: () => armedServer.cpuMicros(), bare: () => bareServer.cpuMicros() };
      return measureProtection(armedServer.targets[target]!, bareServer.targets[target]!, protectionSettings, cpu, stores);
    };
    const protection: ProtectionBenchResult | undefined = await protectionOn(protectionServers, "grpcJs");
    const storeCpus = await Promise.all(protectionRedis.map((server) => redisServerCpu(server.url)));
    const [armedStoreCpu, bareStoreCpu] = storeCpus;
    const protectionOnRedis: ProtectionBenchResult | undefined = await protectionOn(
      protectionRedisServers,
      "redis",
      armedStoreCpu && bareStoreCpu ? { armed: armedStoreCpu.read, bare: bareStoreCpu.read } : undefined,
    ).finally(() => Promise.all(storeCpus.map((cpu) => cpu.close())));
    const refresh: RefreshBenchResult | undefined =
      settings.redis && selected("refresh")
        ? await measureRefresh({
            trackers: settings.quick ? 1_000 : 10_000,
            rounds: settings.rounds,
            refreshes: settings.quick ? 5 : 20,
          })
        : undefined;
    const results: RowResult[] = rows.map((row) => {
      const total = totals.get(row.id)!;
      return {
        id: row.id,
        label: row.label,
        c1: summarize(total.latencies),
        throughput: (total.calls * 1000) / total.ms,
        serverCpuMicrosPerCall: total.cpuMicros / total.calls,
        clientCpuMicrosPerCall: total.clientCpuMicros / total.calls,
        errors: total.errors,
        rounds: total.rounds,
      };
    });
    const report = buildReport(
      {
        ...settings,
        node: process.version,
        redisNodes: redisServers.length,
        skipped: settings.redis ? [] : ["exit.redis", "exit.redis.no-trail", "exit.redis.traced", "ingest.redis"],
      },
      results,
      ingest,
      storeSizes,
      pings.length > 0 ? summarize(pings) : undefined,
    );
    process.stdout.write(`${formatReport(report)}\n`);
    if (protection) process.stdout.write(`\n${formatProtection(protection, "the embedded store")}\n`);
    if (protectionOnRedis)
      process.stdout.write(
        `\n${formatProtection(protectionOnRedis, `Redis, a redis-server per server, states flushed every ${settings.protectionFlushMs} ms`)}\n`,
      );
    if (refresh) process.stdout.write(`\n${formatRefresh(refresh)}\n`);
    if (ghzResults.length > 0) process.stdout.write(`\n${formatGhz(ghzResults, settings.concurrency)}\n`);
    else if (settings.ghz) process.stdout.write("\n(ghz rows skipped: no ghz in the tools cache; run test/interop/setup.sh)\n");
    if (!settings.redis) process.stdout.write("(Redis rows skipped: redis-server not found, --no-redis, or --quick without --redis)\n");
    const full = {
      ...report,
      ...(ghzResults.length > 0 ? { ghz: ghzResults } : {}),
      ...(protection ? { protection } : {}),
      ...(protectionOnRedis ? { protectionOnRedis } : {}),
      ...(refresh ? { refresh } : {}),
    };
    if (settings.json) writeFileSync(settings.json, `${JSON.stringify(full, null, 2)}\n`);
    else process.stdout.write(`\n${JSON.stringify(full)}\n`);
  } finally {
    driver.close();
    await Promise.all(processes.map((child) => child.stop()));
    await Promise.all([...redisServers, ...protectionRedis].map((server) => server.destroy()));
    await sink.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
