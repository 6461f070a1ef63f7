import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

interface TracingCostReport {
  readonly settings: { readonly redisNodes: number };
  readonly rows: readonly {
    readonly target: string;
    readonly id: string;
    readonly cpuMicrosPerExit: number;
    readonly gcMicrosPerExit: number;
    readonly rounds: readonly number[];
  }[];
}

describe("npm run bench:tracing", () => {
  it("runs every exit to EXITED under each setting, embedded and on Redis, and reports CPU per exit and what tracing adds, as text and JSON", () => {
    const dir = mkdtempSync(join(tmpdir(), "tc-tracing-cost-"));
    try {
      const out = join(dir, "tracing-cost.json");
      const run = spawnSync(
        process.execPath,
        ["--import", "tsx", "src/loadtest/tracing-cost.ts", "--rounds", "1", "--calls", "40", "--concurrency", "4", "--json", out],
        { encoding: "utf8", timeout: 120_000 },
      );
      // The run fails (exit 1) when any exit of any setting answers anything but EXITED.
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^embedded, tracing on, 10% parent-based ratio\s/m);
      expect(run.stdout).toMatch(/^Redis \(3 lock nodes \+ store\), tracing on, 10% parent-based ratio\s/m);
      const report = JSON.parse(readFileSync(out, "utf8")) as TracingCostReport;
      expect(report.settings.redisNodes).toBe(3);
      const settings = ["off", "always_off", "ratio_0.1", "sampled"];
      expect(report.rows.map((row) => `${row.target}/${row.id}`)).toEqual([
        ...settings.map((id) => `embedded/${id}`),
        ...settings.map((id) => `redis/${id}`),
      ]);
      for (const row of report.rows) {
        expect(row.rounds, row.id).toHaveLength(1);
        expect(row.cpuMicrosPerExit, row.id).toBeGreaterThan(0);
        expect(row.gcMicrosPerExit, row.id).toBeGreaterThanOrEqual(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
