/**
 * The c=N throughput rows again, with the load driven by ghz (a Go client,
 * built by test/interop/setup.sh into the tools cache) instead of this
 * process: the bench's own client CPU then does not set the figure. Rows run
 * side by side, round by round, as in the main table; ratios to the floor
 * are per-round medians.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type Row, registerTrackers } from "./bench-driver.js";
import { type RowResult, sideBySideRatio } from "./bench-report.js";

const run = promisify(execFile);
const PROTO_ROOT = fileURLToPath(new URL("../../../proto", import.meta.url));
const TOOLS_DIR = process.env.TRADINGCORE_TOOLS_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "tradingcore-tools");

/** The ghz binary, or undefined when the tools cache has none (run test/interop/setup.sh). */
export function ghzBinary(): string | undefined {
  const path = join(TOOLS_DIR, "bin", "ghz");
  return existsSync(path) ? path : undefined;
}

export interface GhzRow {
  readonly row: Row;
  readonly address: string;
  /** The server process's CPU so far, µs. */
  readonly cpu: () => Promise<number>;
}

let pool = 0;

/** One ghz run of `calls` calls at `concurrency` against `target`: calls/s and server CPU per call (µs). */
async function runGhz(
  ghz: string,
  target: GhzRow,
  calls: number,
  concurrency: number,
): Promise<{ throughput: number; serverCpuMicrosPerCall: number; errors: number }> {
  const isExit = target.row.workload === "exit";
  let data = "{}";
  if (isExit) {
    const orderNos = await registerTrackers(target.address, calls, `G${++pool}x`);
    const base = orderNos[0]!.slice(0, -1); // registered as `${base}${index}`, index from 0 like ghz's request number
    data = JSON.stringify({ order_no: `${base}{{.RequestNumber}}`, reason: "bench", reason_code: "EXIT_REASON_CODE_STOP_LOSS" });
  }
  const [proto, call] = isExit
    ? ["tradingcore/v1/exit.proto", "tradingcore.v1.ExitService/ExecuteExit"]
    : ["grpc/health/v1/health.proto", "grpc.health.v1.Health/Check"];
  const before = await target.cpu();
  const { stdout } = await run(
    ghz,
    [
      "--insecure",
      "--import-paths",
      PROTO_ROOT,
      "--proto",
      join(PROTO_ROOT, proto),
      "--call",
      call,
      "-d",
      data,
      "-n",
      String(calls),
      "-c",
      String(concurrency),
      "--connections",
      "4",
      "-O",
      "json",
      target.address,
    ],
    { maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
  );
  const cpuMicros = (await target.cpu()) - before;
  const report = JSON.parse(stdout) as { count: number; rps: number; statusCodeDistribution?: Record<string, number> };
  const errors = report.count - (report.statusCodeDistribution?.OK ?? 0);
  return { throughput: report.rps, serverCpuMicrosPerCall: cpuMicros / report.count, errors };
}

export interface GhzResult {
  readonly id: string;
  readonly label: string;
  readonly throughput: number;
  readonly throughputVsFloor: number;
  readonly serverCpuMicrosPerCall: number;
  readonly cpuVsFloor: number;
  readonly errors: number;
}

/** The rows under ghz load, `rounds` rounds side by side (order reversed every other round). */
export async function measureWithGhz(
  ghz: string,
  targets: readonly GhzRow[],
  rounds: number,
  calls: number,
  concurrency: number,
): Promise<GhzResult[]> {
  const totals = new Map(targets.map((target) => [target.row.id, { rounds: [] as RowResult["rounds"] & object[], errors: 0 }]));
  for (let round = 0; round < rounds; round++) {
    for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
      const result = await runGhz(ghz, target, calls, concurrency);
      const total = totals.get(target.row.id)!;
      total.rounds[round] = { throughput: result.throughput, serverCpuMicrosPerCall: result.serverCpuMicrosPerCall };
      total.errors += result.errors;
      process.stderr.write(`  ghz round ${round + 1}: ${target.row.label}: ${result.throughput.toFixed(0)} calls/s\n`);
    }
  }
  const asRow = (target: GhzRow): RowResult => {
    const total = totals.get(target.row.id)!;
    const mean = (pick: (figures: { throughput: number; serverCpuMicrosPerCall: number }) => number) =>
      total.rounds.reduce((sum, figures) => sum + pick(figures), 0) / total.rounds.length;
    return {
      id: target.row.id,
      label: target.row.label,
      c1: { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 },
      throughput: mean((f) => f.throughput),
      serverCpuMicrosPerCall: mean((f) => f.serverCpuMicrosPerCall),
      errors: total.errors,
      rounds: total.rounds,
    };
  };
  const rows = targets.map(asRow);
  const floor = rows.find((row) => row.id === "floor");
  return rows.map((row) => ({
    id: row.id,
    label: row.label,
    throughput: row.throughput,
    throughputVsFloor: floor ? sideBySideRatio(row, floor, (f) => f.throughput).median : 0,
    serverCpuMicrosPerCall: row.serverCpuMicrosPerCall,
    cpuVsFloor: floor ? sideBySideRatio(row, floor, (f) => f.serverCpuMicrosPerCall).median : 0,
    errors: row.errors,
  }));
}

export function formatGhz(results: readonly GhzResult[], concurrency: number): string {
  const lines = [
    `c=${concurrency} driven by ghz (Go client, 4 connections): calls/s, ratio to the floor under ghz, server CPU us/call, ratio`,
  ];
  for (const result of results) {
    lines.push(
      `  ${result.label.padEnd(55)} ${result.throughput.toFixed(0).padStart(7)}  ${result.throughputVsFloor.toFixed(2)}x  ${result.serverCpuMicrosPerCall.toFixed(0).padStart(5)}  ${result.cpuVsFloor.toFixed(2)}x  errors ${result.errors}`,
    );
  }
  return lines.join("\n");
}
