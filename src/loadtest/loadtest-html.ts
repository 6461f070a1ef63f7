/**
 * The load test report as one self-contained HTML page (inline SVG, no
 * scripts, no network): when and with what it ran, percentiles, a latency
 * histogram, latency over time, where the exit's server time went, and why
 * the client's latency is larger than the server span.
 */
import type { LoadtestReport } from "./loadtest-report.js";
import { formatLoadtestReport } from "./loadtest-report.js";
import { barChart, escapeHtml, histogramChart, lineChart, type BarRow } from "./svg-charts.js";

const KINDS = ["ExecuteExit", "GetLtp"] as const;
const ms = (value: number) => `${value.toFixed(3)} ms`;

function percentileCharts(report: LoadtestReport): string[] {
  return KINDS.filter((kind) => report.latency[kind].count > 0).map((kind) => {
    const latency = report.latency[kind];
    const rows = (["p50", "p90", "p99", "p999", "max"] as const).map((key) => ({
      label: key === "p999" ? "p99.9" : key,
      value: latency[key],
      text: ms(latency[key]),
    }));
    return barChart(`${kind} latency, client side (ms), ${latency.count} calls`, rows);
  });
}

function shareChart(report: LoadtestReport): string {
  const steps = report.spans.filter((row) => row.inExitTraces && row.name !== "ExecuteExit");
  const rows: BarRow[] = steps
    .filter((row) => !row.afterAnswer)
    .map((row) => ({
      label: row.name,
      value: row.shareOfExit,
      text: `${(row.shareOfExit * 100).toFixed(1)}%  p50 ${ms(row.p50)}  p99 ${ms(row.p99)}`,
    }));
  rows.push({
    label: "other/untraced",
    value: report.untracedShareOfExit,
    text: `${(report.untracedShareOfExit * 100).toFixed(1)}%  in the span, outside every step`,
    muted: true,
  });
  for (const row of steps.filter((step) => step.afterAnswer)) {
    rows.push({
      label: row.name,
      value: row.shareOfExit,
      text: `${(row.shareOfExit * 100).toFixed(1)}%  after the answer, outside the span  p50 ${ms(row.p50)}`,
      muted: true,
    });
  }
  return barChart("Share of the ExecuteExit server span, by step", rows);
}

function timelineChart(report: LoadtestReport): string {
  const points = (kind: (typeof KINDS)[number], key: "p50" | "p99") =>
    report.timeline[kind].filter((point) => point.count > 0).map((point) => ({ x: point.atS, y: point[key] }));
  const series = [
    { name: "ExecuteExit p50", color: "#4a78c2", points: points("ExecuteExit", "p50") },
    { name: "ExecuteExit p99", color: "#c24a4a", points: points("ExecuteExit", "p99") },
  ];
  if (report.latency.GetLtp.count > 0) series.push({ name: "GetLtp p50", color: "#3a9a5b", points: points("GetLtp", "p50") });
  return lineChart("Client latency over time (ms), per window", "ms", series);
}

/** Why the client waits longer than the server span says, with this run's numbers. */
function gapExplanation(report: LoadtestReport): string {
  const exit = report.latency.ExecuteExit;
  const span = report.spans.find((row) => row.name === "ExecuteExit");
  const concurrency = report.settings.rps === undefined ? Number(report.settings.concurrency) : undefined;
  const little =
    concurrency !== undefined && report.throughput > 0
      ? ` Little's law ties the two: ${concurrency} calls kept in flight at ${report.throughput.toFixed(0)} calls/s take ${concurrency} / ${report.throughput.toFixed(0)} = <b>${ms((concurrency / report.throughput) * 1000)}</b> each on average, whatever the server span (measured mean: ${ms(exit.mean)}). Most of a call's time is its wait for the calls ahead of it.`
      : " In open loop (--rps), a call's latency counts from its scheduled start, so time it waited to be sent is included too.";
  return `<h2>Client latency and the server span</h2>
<p>Client latency (p50 ${ms(exit.p50)}) runs from the moment the load test starts a call to the moment it has decoded the answer. The server span${span ? ` (p50 ${ms(span.p50)})` : ""} covers only the handler on the server, from the decoded request to the answer handed back. The rest is spent outside any span: the call's turn in the queue (the server handles one call at a time on its one JavaScript thread, and so does the client), grpc-js's work on both sides (HTTP/2 frames, protobuf encoding, event-loop turns), the loopback hop, and, on a small machine, the load test and the server taking turns on the same cores.${little} To see the fixed per-call cost alone, run with <code>--concurrency 1</code>; to see latency below saturation, use <code>--rps</code> under the throughput shown here.</p>`;
}

export function loadtestHtml(report: LoadtestReport): string {
  const settings = report.settings;
  const mode = settings.rps === undefined ? `${String(settings.concurrency)} calls in flight` : `${String(settings.rps)} calls/s`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tradingcore load test, ${escapeHtml(report.run.startedAt)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}pre{background:#f4f4f4;padding:12px;overflow:auto}svg{display:block;margin:12px 0}p{line-height:1.45}</style></head>
<body><h1>tradingcore load test</h1>
<p>Run of <b>${escapeHtml(report.run.startedAt)}</b>, tradingcore ${escapeHtml(report.run.version)}, node ${escapeHtml(report.run.node)}; target ${escapeHtml(String(settings.target))}, ${escapeHtml(mode)}.</p>
<p>${report.calls} calls in ${(report.elapsedMs / 1000).toFixed(1)} s: <b>${report.throughput.toFixed(0)} calls/s</b>; ${report.spansReceived} spans received.</p>
${report.notes.map((note) => `<p><i>note: ${escapeHtml(note)}</i></p>`).join("\n")}
${percentileCharts(report).join("\n")}
${report.histogram.ExecuteExit.length > 0 ? histogramChart("ExecuteExit latency histogram, client side", report.histogram.ExecuteExit) : ""}
${report.histogram.GetLtp.length > 0 ? histogramChart("GetLtp latency histogram, client side", report.histogram.GetLtp) : ""}
${report.latency.ExecuteExit.count > 0 ? timelineChart(report) : ""}
${report.spans.length > 0 ? shareChart(report) : "<p>No spans were received.</p>"}
<p>Each step's share is its spans' total time over the ExecuteExit server spans' total. The steps of an exit run one after another, so with <i>other/untraced</i> (the span's time no step accounts for: the handler's own code between steps, and the call middleware inside the span) they add up to 100%.</p>
${gapExplanation(report)}
<h2>Report</h2><pre>${escapeHtml(formatLoadtestReport(report))}</pre>
<h2>Settings</h2><pre>${escapeHtml(JSON.stringify(report.settings, null, 2))}</pre>
</body></html>
`;
}
