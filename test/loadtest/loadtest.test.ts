import { describe, expect, it } from "vitest";
import { runLoadtest } from "../../src/loadtest/loadtest.js";
import { duration, parseLoadtestOptions } from "../../src/loadtest/loadtest-options.js";
import { loadtestHtml } from "../../src/loadtest/loadtest-html.js";
import { formatLoadtestReport } from "../../src/loadtest/loadtest-report.js";

const STEPS = ["exit.lock.acquire", "exit.intent.persist", "exit.router.call", "exit.tracker.update", "exit.lock.release"];

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

    // The steps before the answer and what no step accounts for make up the whole exit span; the lock
    // release follows the answer.
    expect(byName.get("exit.lock.release")?.afterAnswer).toBe(true);
    const steps = report.spans.filter((row) => row.inExitTraces && row.name !== "ExecuteExit" && !row.afterAnswer);
    expect(steps.reduce((sum, row) => sum + row.shareOfExit, 0) + report.untracedShareOfExit).toBeCloseTo(1, 1);
    expect(report.untracedShareOfExit).toBeGreaterThan(0);
    if (report.latency.GetLtp.count > 0) expect(byName.get("GetLtp")?.inExitTraces).toBe(false);
    expect(report.histogram.ExecuteExit.reduce((sum, bucket) => sum + bucket.count, 0)).toBe(exitCount);
    expect(report.timeline.ExecuteExit.reduce((sum, point) => sum + point.count, 0)).toBe(exitCount);
    expect(report.run.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Date.parse(report.run.startedAt)).not.toBeNaN();

    const html = loadtestHtml(report);
    const shareChart = html.slice(
      html.indexOf("Share of the ExecuteExit server span"),
      html.indexOf("</svg>", html.indexOf("Share of the ExecuteExit server span")),
    );
    expect(shareChart).toContain("other/untraced");
    expect(shareChart).toContain("exit.router.call");
    expect(shareChart).not.toContain(">GetLtp<");
    expect(html).toContain("latency histogram");
    expect(html).toContain("Client latency over time");
    expect(html).toContain(report.run.startedAt);
    expect(html).toContain("Little's law");
  }, 120_000);
});

describe("the load test report", () => {
  const report = {
    run: { startedAt: "2026-01-02T03:04:05.000Z", version: "0.1.0", node: "v24.0.0" },
    settings: { concurrency: 4 },
    calls: 3,
    elapsedMs: 1000,
    throughput: 3,
    latency: {
      ExecuteExit: { count: 3, mean: 1, p50: 1, p90: 1.5, p99: 2, p999: 2, max: 2 },
      GetLtp: { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 },
    },
    histogram: { ExecuteExit: [{ fromMs: 1, toMs: 2, count: 3 }], GetLtp: [] },
    timeline: { ExecuteExit: [{ atS: 0, count: 3, p50: 1, p99: 2 }], GetLtp: [] },
    untracedShareOfExit: 0.25,
    statuses: { ExecuteExit: { EXITED: 3 }, GetLtp: {} },
    spans: [
      { name: "ExecuteExit", count: 3, p50: 0.5, p99: 0.9, meanMs: 0.6, shareOfExit: 1, inExitTraces: true, afterAnswer: false },
      {
        name: "exit.router.call",
        count: 3,
        p50: 0.4,
        p99: 4.123456,
        meanMs: 0.45,
        shareOfExit: 0.75,
        inExitTraces: true,
        afterAnswer: false,
      },
      { name: "GetLtp", count: 2, p50: 0.1, p99: 0.2, meanMs: 0.1, shareOfExit: 0, inExitTraces: false, afterAnswer: false },
    ],
    spansReceived: 27,
    notes: [],
  };

  it("prints percentiles, statuses and the span table", () => {
    const text = formatLoadtestReport(report);
    expect(text).toMatch(/ExecuteExit\s+3\s+1\.000\s+1\.500\s+2\.000/);
    expect(text).toMatch(/ExecuteExit\s+EXITED\s+3/);
    expect(text).toMatch(/ExecuteExit\s+3\s+0\.500\s+0\.900\s+100\.0%/);
    expect(text).toMatch(/other\/untraced\s+25\.0%/);
    expect(text).toMatch(/GetLtp\s+2\s+0\.100\s+0\.200\s+-/);
    expect(text).toContain("run of 2026-01-02T03:04:05.000Z, tradingcore 0.1.0");
  });

  it("sizes each bar chart to its longest value text, so no value is cut", () => {
    const html = loadtestHtml(report);
    for (const chart of html.match(/<svg[^>]*width="(\d+)"[\s\S]*?<\/svg>/g) ?? []) {
      const width = Number(/width="(\d+)"/.exec(chart)![1]);
      for (const [, x, text] of chart.matchAll(/<text x="([\d.]+)" y="[\d.]+">([^<]+)<\/text>/g)) {
        expect(Number(x) + text!.length * 7, text).toBeLessThanOrEqual(width);
      }
    }
    expect(html).toContain("p99 4.123 ms");
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
