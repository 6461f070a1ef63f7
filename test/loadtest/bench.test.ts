import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BenchReport } from "../../src/loadtest/bench-report.js";

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
      expect(report.goals.find((goal) => goal.goal.startsWith("ExecuteExit c=1 p50 with 2000 trackers vs 100"))?.measured).toMatch(/^\d+\.\d\dx \(p99: \d+\.\d\dx\)$/);
      expect(report.ingest.map((result) => result.id)).toEqual(["ingest.grpc-js"]);
      expect(report.ingest[0]!.ticksPerSecond).toBeGreaterThan(0);
      expect(report.goals.map((goal) => goal.goal)).toContain("GetLtp (memory hit) c=32 vs no-op on the same server (grpc-js)");
      expect(report.goals.find((goal) => goal.goal.startsWith("tracing on"))?.measured).toMatch(/^-?\d+\.\d% \(server CPU: -?\d+\.\d%\)$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
