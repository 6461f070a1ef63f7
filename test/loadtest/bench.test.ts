import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type BenchReport, buildReport, type RowResult, sideBySideRatio } from "../../src/loadtest/bench-report.js";
import type { ProtectionBenchResult } from "../../src/loadtest/bench-protection.js";

describe("npm run bench --quick", () => {
  it("measures every row without errors and reports ratios to the floor and the goals, as text and JSON", () => {
    const dir = mkdtempSync(join(tmpdir(), "tc-bench-"));
    try {
      const out = join(dir, "bench.json");
      const run = spawnSync(process.execPath, ["--import", "tsx", "src/loadtest/bench.ts", "--quick", "--no-redis", "--json", out], {
        encoding: "utf8",
        timeout: 170_000,
      });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^floor: plain grpc-js no-op\s/m);
      const report = JSON.parse(readFileSync(out, "utf8")) as BenchReport;
      expect(report.rows.map((row) => row.id)).toEqual([
        "floor",
        "noop.grpc-js",
        "noop.connect",
        "ltp.grpc-js",
        "ltp.connect",
        "exit.grpc-js",
        "exit.connect",
        "noop.grpc-js.traced",
        "exit.grpc-js.traced",
        "exit.grpc-js.telemetry",
      ]);
      for (const row of report.rows) {
        expect(row.errors, row.id).toBe(0);
        expect(row.throughput, row.id).toBeGreaterThan(0);
        expect(row.serverCpuMicrosPerCall, row.id).toBeGreaterThan(0);
        expect(row.c1.count, row.id).toBe(30);
      }
      expect(report.rows[0]!.throughputVsFloor).toBe(1);
      expect(report.storeSizes.map((size) => [size.id, size.trackers])).toEqual([
        ["exit.trackers.small", 100],
        ["exit.trackers.large", 2000],
      ]);
      for (const size of report.storeSizes) {
        expect(size.errors, size.id).toBe(0);
        expect(size.c1.count, size.id).toBe(30);
      }
      expect(report.goals.find((goal) => goal.goal.startsWith("ExecuteExit c=1 p50 with 2000 trackers vs 100"))?.measured).toMatch(
        /^\d+\.\d\dx \(p99: \d+\.\d\dx\)$/,
      );
      const { protection } = report as BenchReport & { protection: ProtectionBenchResult };
      expect(protection).toMatchObject({ trackers: 1000, instruments: 1000, probes: 20, missed: 0 });
      expect(protection.tickToOrder.count).toBe(20);
      expect(protection.ingestRatio).toBeGreaterThan(0);
      expect(protection.ingestCpuMicrosPerTick?.armed).toBeGreaterThan(0);
      expect(protection.ingestCpuMicrosPerTick?.bare).toBeGreaterThan(0);
      expect(run.stdout).toMatch(/PublishTicks ingest, armed [\d.]+k\/s vs none \(the same trackers without plans\) [\d.]+k\/s: [\d.]+x/);
      expect(protection.trendRatio).toBeGreaterThan(0);
      expect(protection.trendCpuMicrosPerTick?.armed).toBeGreaterThan(0);
      expect(run.stdout).toMatch(
        /PublishTicks ingest in a sustained trend \(every tick a new high for the trails\), armed [\d.]+k\/s vs none [\d.]+k\/s: [\d.]+x/,
      );
      expect(report.ingest.map((result) => result.id)).toEqual(["ingest.grpc-js"]);
      expect(report.ingest[0]!.ticksPerSecond).toBeGreaterThan(0);
      expect(report.goals.map((goal) => goal.goal)).toContain("GetLtp (memory hit) c=32 vs no-op on the same server (grpc-js)");
      expect(report.goals.find((goal) => goal.goal.startsWith("tracing on"))?.measured).toMatch(/^-?\d+\.\d% \(server CPU: -?\d+\.\d%\)$/);
      expect(report.goals.find((goal) => goal.goal.startsWith("tracing and metrics on"))?.measured).toMatch(
        /^-?\d+\.\d% \(server CPU: -?\d+\.\d%\)$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe("npm run bench --only", () => {
  it("runs the listed rows beside the floor, and skips the ingest and store-size sections not listed", () => {
    const dir = mkdtempSync(join(tmpdir(), "tc-bench-"));
    try {
      const out = join(dir, "bench.json");
      const run = spawnSync(
        process.execPath,
        ["--import", "tsx", "src/loadtest/bench.ts", "--quick", "--no-redis", "--only", "exit.grpc-js", "--json", out],
        {
          encoding: "utf8",
          timeout: 170_000,
        },
      );
      expect(run.status, run.stderr).toBe(0);
      const report = JSON.parse(readFileSync(out, "utf8")) as BenchReport;
      expect(report.rows.map((row) => row.id)).toEqual(["floor", "exit.grpc-js"]);
      expect(report.ingest).toEqual([]);
      expect(report.storeSizes).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it("refuses an unknown row id, naming it", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "src/loadtest/bench.ts", "--quick", "--only", "exit.grpcjs"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("--only: unknown exit.grpcjs");
  }, 60_000);

  it("refuses a protection flush pause the server would refuse, naming the flag and its bounds", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "src/loadtest/bench.ts", "--quick", "--protection-flush-ms", "5"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("--protection-flush-ms: 5 is outside 10..60000");
  }, 60_000);
});

describe("ratios between bench rows", () => {
  const row = (id: string, throughputs: number[]): RowResult => ({
    id,
    label: id,
    c1: { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 },
    throughput: throughputs.reduce((sum, value) => sum + value, 0) / throughputs.length,
    serverCpuMicrosPerCall: 100,
    errors: 0,
    rounds: throughputs.map((throughput) => ({ throughput, serverCpuMicrosPerCall: 100 })),
  });

  it("are the median of the per-round ratios, so one noisy round does not move them", () => {
    // Round 2 of the exit row ran while the machine was busy: 100 instead of about 600.
    const ratio = sideBySideRatio(row("exit", [600, 100, 620]), row("floor", [1000, 1000, 1000]), (figures) => figures.throughput);
    expect(ratio.median).toBeCloseTo(0.6, 6);
    expect([ratio.low, ratio.high]).toEqual([0.1, 0.62]);
  });

  it("pair rounds by index: each round's rows ran side by side", () => {
    const ratio = sideBySideRatio(row("exit", [500, 250]), row("floor", [1000, 500]), (figures) => figures.throughput);
    expect([ratio.low, ratio.median, ratio.high]).toEqual([0.5, 0.5, 0.5]);
  });
});

describe("the bench's tracing goals", () => {
  const row = (id: string, throughput: number): RowResult => ({
    id,
    label: id,
    c1: { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 },
    throughput,
    serverCpuMicrosPerCall: 100,
    errors: 0,
    rounds: [{ throughput, serverCpuMicrosPerCall: 100 }],
  });
  const rows = [row("floor", 1000), row("exit.redis", 500), row("exit.redis.traced", 440)];
  const redisGoal = (report: BenchReport) => report.goals.find((goal) => goal.goal.startsWith("tracing on") && goal.goal.endsWith("Redis"));

  it("hold the Redis exit to 15 % at full sampling", () => {
    const goal = redisGoal(buildReport({}, rows));
    expect(goal).toMatchObject({ target: "<= 15%", met: true });
    expect(goal?.goal).toContain("100% sampled");
  });

  it("hold it to 3 % at a sampling ratio, and name the ratio", () => {
    const goal = redisGoal(buildReport({ samplingRatio: 0.1 }, rows));
    expect(goal).toMatchObject({ target: "<= 3%", met: false });
    expect(goal?.goal).toContain("10% parent-based ratio");
  });
});
