/**
 * The load test's answer: latency percentiles, throughput, statuses by kind
 * and the per-span breakdown, as a terminal table, as JSON, and as one
 * self-contained HTML page with inline SVG charts (no scripts, no network).
 */
import { round3, summarize, type LatencySummary } from "./latency-stats.js";
import type { SpanRow } from "./span-breakdown.js";

export interface LoadtestReport {
  readonly settings: Record<string, unknown>;
  readonly calls: number;
  readonly elapsedMs: number;
  readonly throughput: number;
  readonly latency: { readonly ExecuteExit: LatencySummary; readonly GetLtp: LatencySummary };
  readonly statuses: Record<string, Record<string, number>>;
  readonly spans: readonly SpanRow[];
  readonly spansReceived: number;
  readonly notes: readonly string[];
}

export function buildLoadtestReport(input: {
  settings: Record<string, unknown>;
  calls: number;
  elapsedMs: number;
  exitLatencies: readonly number[];
  ltpLatencies: readonly number[];
  statuses: Record<string, Record<string, number>>;
  spans: readonly SpanRow[];
  spansReceived: number;
  notes: readonly string[];
}): LoadtestReport {
  const rounded = (summary: LatencySummary): LatencySummary =>
    Object.fromEntries(Object.entries(summary).map(([key, value]) => [key, key === "count" ? value : round3(value)])) as unknown as LatencySummary;
  return {
    settings: input.settings,
    calls: input.calls,
    elapsedMs: round3(input.elapsedMs),
    throughput: round3((input.calls * 1000) / input.elapsedMs),
    latency: { ExecuteExit: rounded(summarize(input.exitLatencies)), GetLtp: rounded(summarize(input.ltpLatencies)) },
    statuses: input.statuses,
    spans: input.spans,
    spansReceived: input.spansReceived,
    notes: input.notes,
  };
}

export function formatLoadtestReport(report: LoadtestReport): string {
  const lines = [`${report.calls} calls in ${(report.elapsedMs / 1000).toFixed(1)} s: ${report.throughput.toFixed(0)} calls/s`, ""];
  const latencyRows = (["ExecuteExit", "GetLtp"] as const)
    .filter((kind) => report.latency[kind].count > 0)
    .map((kind) => {
      const l = report.latency[kind];
      return [kind, String(l.count), ...[l.p50, l.p90, l.p99, l.p999, l.max].map((value) => value.toFixed(3))];
    });
  lines.push(...table(["latency (ms, client)", "count", "p50", "p90", "p99", "p99.9", "max"], latencyRows), "");
  const statusRows = Object.entries(report.statuses).flatMap(([kind, counts]) => Object.entries(counts).map(([status, count]) => [kind, status, String(count)]));
  lines.push(...table(["call", "status", "count"], statusRows), "");
  if (report.spans.length > 0) {
    lines.push(
      ...table(
        ["span (server)", "count", "p50 ms", "p99 ms", "share of exit"],
        report.spans.map((row) => [row.name, String(row.count), row.p50.toFixed(3), row.p99.toFixed(3), `${(row.shareOfExit * 100).toFixed(1)}%`]),
      ),
    );
  }
  for (const note of report.notes) lines.push(`note: ${note}`);
  return lines.join("\n");
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  return [line(header), widths.map((width) => "-".repeat(width)).join("  "), ...rows.map(line)];
}

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** Horizontal bars: one row per label, bar length proportional to value. */
function barChart(title: string, rows: { label: string; value: number; text: string }[]): string {
  const rowHeight = 22;
  const labelWidth = 190;
  const barWidth = 420;
  const height = 30 + rows.length * rowHeight;
  const max = Math.max(...rows.map((row) => row.value), 1e-9);
  const bars = rows
    .map((row, index) => {
      const y = 26 + index * rowHeight;
      const width = Math.max(1, (row.value / max) * barWidth);
      return `<text x="${labelWidth - 6}" y="${y + 14}" text-anchor="end">${escape(row.label)}</text><rect x="${labelWidth}" y="${y}" width="${width.toFixed(1)}" height="16" fill="#4a78c2"/><text x="${labelWidth + width + 6}" y="${y + 13}">${escape(row.text)}</text>`;
    })
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + barWidth + 160}" height="${height}" font-family="sans-serif" font-size="12"><text x="4" y="16" font-weight="bold">${escape(title)}</text>${bars}</svg>`;
}

export function loadtestHtml(report: LoadtestReport): string {
  const exit = report.latency.ExecuteExit;
  const percentiles = barChart(
    "ExecuteExit latency, client side (ms)",
    (["p50", "p90", "p99", "p999", "max"] as const).map((key) => ({ label: key === "p999" ? "p99.9" : key, value: exit[key], text: `${exit[key].toFixed(3)} ms` })),
  );
  const shares = barChart(
    "Share of the ExecuteExit server span, by span name",
    report.spans.map((row) => ({ label: row.name, value: row.shareOfExit, text: `${(row.shareOfExit * 100).toFixed(1)}%  p50 ${row.p50.toFixed(3)} ms  p99 ${row.p99.toFixed(3)} ms` })),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tradingcore load test</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}pre{background:#f4f4f4;padding:12px;overflow:auto}</style></head>
<body><h1>tradingcore load test</h1>
<p>${report.calls} calls in ${(report.elapsedMs / 1000).toFixed(1)} s: <b>${report.throughput.toFixed(0)} calls/s</b>; ${report.spansReceived} spans received.</p>
${percentiles}
${report.spans.length > 0 ? shares : "<p>No spans were received.</p>"}
<h2>Report</h2><pre>${escape(formatLoadtestReport(report))}</pre>
<h2>Settings</h2><pre>${escape(JSON.stringify(report.settings, null, 2))}</pre>
</body></html>
`;
}
