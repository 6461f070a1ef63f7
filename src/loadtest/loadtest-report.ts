/**
 * The load test's answer: latency percentiles, histograms and percentiles
 * over time, throughput, statuses by kind and the per-span breakdown, as a
 * terminal table and as JSON (loadtest-html.ts renders it as a page).
 */
import { histogram, round3, summarize, timeline, type HistogramBucket, type LatencySummary, type TimelinePoint } from "./latency-stats.js";
import type { SpanRow } from "./span-breakdown.js";

/** When and with what the run was made. */
export interface RunInfo {
  /** ISO 8601, UTC. */
  readonly startedAt: string;
  /** tradingcore's version (package.json) and node's. */
  readonly version: string;
  readonly node: string;
}

type ByKind<T> = { readonly ExecuteExit: T; readonly GetLtp: T };

export interface LoadtestReport {
  readonly run: RunInfo;
  readonly settings: Record<string, unknown>;
  readonly calls: number;
  readonly elapsedMs: number;
  readonly throughput: number;
  readonly latency: ByKind<LatencySummary>;
  readonly histogram: ByKind<HistogramBucket[]>;
  readonly timeline: ByKind<TimelinePoint[]>;
  readonly statuses: Record<string, Record<string, number>>;
  readonly spans: readonly SpanRow[];
  /** Share of the ExecuteExit server span that no step span covers (0..1). */
  readonly untracedShareOfExit: number;
  readonly spansReceived: number;
  readonly notes: readonly string[];
}

export function buildLoadtestReport(input: {
  run: RunInfo;
  settings: Record<string, unknown>;
  calls: number;
  elapsedMs: number;
  exitLatencies: readonly number[];
  ltpLatencies: readonly number[];
  exitDoneAtMs: readonly number[];
  ltpDoneAtMs: readonly number[];
  statuses: Record<string, Record<string, number>>;
  spans: readonly SpanRow[];
  untracedShareOfExit: number;
  spansReceived: number;
  notes: readonly string[];
}): LoadtestReport {
  const rounded = (summary: LatencySummary): LatencySummary =>
    Object.fromEntries(
      Object.entries(summary).map(([key, value]) => [key, key === "count" ? value : round3(value)]),
    ) as unknown as LatencySummary;
  // About 40 points over the run, each window at least 100 ms.
  const windowMs = Math.max(100, Math.ceil(input.elapsedMs / 40));
  return {
    run: input.run,
    settings: input.settings,
    calls: input.calls,
    elapsedMs: round3(input.elapsedMs),
    throughput: round3((input.calls * 1000) / input.elapsedMs),
    latency: { ExecuteExit: rounded(summarize(input.exitLatencies)), GetLtp: rounded(summarize(input.ltpLatencies)) },
    histogram: { ExecuteExit: histogram(input.exitLatencies), GetLtp: histogram(input.ltpLatencies) },
    timeline: {
      ExecuteExit: timeline(input.exitLatencies, input.exitDoneAtMs, input.elapsedMs, windowMs),
      GetLtp: timeline(input.ltpLatencies, input.ltpDoneAtMs, input.elapsedMs, windowMs),
    },
    statuses: input.statuses,
    spans: input.spans,
    untracedShareOfExit: input.untracedShareOfExit,
    spansReceived: input.spansReceived,
    notes: input.notes,
  };
}

export function formatLoadtestReport(report: LoadtestReport): string {
  const lines = [
    `run of ${report.run.startedAt}, tradingcore ${report.run.version}, node ${report.run.node}`,
    `${report.calls} calls in ${(report.elapsedMs / 1000).toFixed(1)} s: ${report.throughput.toFixed(0)} calls/s`,
    "",
  ];
  const latencyRows = (["ExecuteExit", "GetLtp"] as const)
    .filter((kind) => report.latency[kind].count > 0)
    .map((kind) => {
      const l = report.latency[kind];
      return [kind, String(l.count), ...[l.p50, l.p90, l.p99, l.p999, l.max].map((value) => value.toFixed(3))];
    });
  lines.push(...table(["latency (ms, client)", "count", "p50", "p90", "p99", "p99.9", "max"], latencyRows), "");
  const statusRows = Object.entries(report.statuses).flatMap(([kind, counts]) =>
    Object.entries(counts).map(([status, count]) => [kind, status, String(count)]),
  );
  lines.push(...table(["call", "status", "count"], statusRows), "");
  if (report.spans.length > 0) {
    lines.push(
      ...table(
        ["span (server)", "count", "p50 ms", "p99 ms", "share of exit"],
        [
          ...report.spans.map((row) => [
            row.name,
            String(row.count),
            row.p50.toFixed(3),
            row.p99.toFixed(3),
            row.inExitTraces ? `${(row.shareOfExit * 100).toFixed(1)}%${row.afterAnswer ? " (after the answer)" : ""}` : "-",
          ]),
          ["other/untraced", "", "", "", `${(report.untracedShareOfExit * 100).toFixed(1)}%`],
        ],
      ),
    );
  }
  for (const note of report.notes) lines.push(`note: ${note}`);
  return lines.join("\n");
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  return [line(header), widths.map((width) => "-".repeat(width)).join("  "), ...rows.map(line)];
}
