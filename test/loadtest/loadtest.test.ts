import { describe, expect, it } from "vitest";
import { runLoadtest } from "../../src/loadtest/loadtest.js";
import { duration, parseLoadtestOptions } from "../../src/loadtest/loadtest-options.js";
import { formatLoadtestReport, loadtestHtml } from "../../src/loadtest/loadtest-report.js";

const STEPS = ["exit.validate", "exit.lock.acquire", "exit.tracker.load", "exit.ltp.lookup", "exit.intent.persist", "exit.router.call", "exit.tracker.update", "exit.lock.release"];

describe("npm run loadtest in its short mode, against a server it starts itself", () => {
  it("drives exits and GetLtp, and breaks the exit down by the spans it received over OTLP", async () => {
    const options = parseLoadtestOptions(["--short", "--no-progress", "--duration", "1s", "--trackers", "120", "--ltp-share", "0.25"]);
    const report = await runLoadtest(options, () => {});

    const exits = report.statuses.ExecuteExit ?? {};
    const exitCount = Object.values(exits).reduce((sum, count) => sum + count, 0);
    expect(report.calls).toBeGreaterThan(0);
    expect(exits.EXITED).toBe(exitCount);
    expect(report.latency.ExecuteExit.count).toBe(exitCount);
    expect(report.latency.ExecuteExit.p50).toBeLessThanOrEqual(report.latency.ExecuteExit.p99);
    expect(report.latency.GetLtp.count).toBe(report.statuses.GetLtp?.OK ?? 0);

    const byName = new Map(report.spans.map((row) => [row.name, row]));
    expect(report.spans[0]?.name).toBe("ExecuteExit");
    expect(byName.get("ExecuteExit")?.count).toBe(exitCount);
    expect(byName.get("ExecuteExit")?.shareOfExit).toBe(1);
    for (const step of STEPS) expect(byName.get(step)?.count, step).toBe(exitCount);
    if (report.latency.GetLtp.count > 0) expect(byName.get("GetLtp")?.count).toBe(report.latency.GetLtp.count);
    expect(report.notes.filter((note) => note.startsWith("received server spans"))).toEqual([]);
  }, 120_000);
});

describe("the load test report", () => {
  const report = {
    settings: { concurrency: 4 },
    calls: 3,
    elapsedMs: 1000,
    throughput: 3,
    latency: {
      ExecuteExit: { count: 3, mean: 1, p50: 1, p90: 1.5, p99: 2, p999: 2, max: 2 },
      GetLtp: { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 },
    },
    statuses: { ExecuteExit: { EXITED: 3 }, GetLtp: {} },
    spans: [{ name: "ExecuteExit", count: 3, p50: 0.5, p99: 0.9, meanMs: 0.6, shareOfExit: 1 }],
    spansReceived: 27,
    notes: [],
  };

  it("prints percentiles, statuses and the span table", () => {
    const text = formatLoadtestReport(report);
    expect(text).toMatch(/ExecuteExit\s+3\s+1\.000\s+1\.500\s+2\.000/);
    expect(text).toMatch(/ExecuteExit\s+EXITED\s+3/);
    expect(text).toMatch(/ExecuteExit\s+3\s+0\.500\s+0\.900\s+100\.0%/);
  });

  it("renders a self-contained HTML page with inline SVG charts and no scripts", () => {
    const html = loadtestHtml(report);
    expect(html).toContain("<svg");
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });
});

describe("load test options", () => {
  it("refuse a non-loopback target unless --allow-remote", () => {
    expect(() => parseLoadtestOptions(["--target", "10.0.0.5:50051"])).toThrow(/loopback/);
    expect(parseLoadtestOptions(["--target", "10.0.0.5:50051", "--allow-remote"]).target).toBe("10.0.0.5:50051");
    expect(parseLoadtestOptions(["--target", "[::1]:50051"]).target).toBe("[::1]:50051");
  });

  it("read durations in ms, s and m, and refuse more than 10 minutes", () => {
    expect(duration("500ms")).toBe(500);
    expect(duration("30s")).toBe(30_000);
    expect(duration("2m")).toBe(120_000);
    expect(() => duration("11m")).toThrow(/10m/);
    expect(() => duration("soon")).toThrow(/duration/);
  });

  it("refuse --rps together with --concurrency", () => {
    expect(() => parseLoadtestOptions(["--rps", "100", "--concurrency", "4"])).toThrow(/not both/);
  });
});
