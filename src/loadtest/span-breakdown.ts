/**
 * Where the time went: the spans a load test received, grouped by name,
 * restricted to the traces the load test started itself.
 */
import { round3, summarize } from "./latency-stats.js";
import type { ReceivedSpan } from "./otlp-span-decoder.js";

export interface SpanRow {
  readonly name: string;
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly meanMs: number;
  /** This span name's total time over the ExecuteExit server spans' total time (0..1); steps may overlap, so shares need not add to 1. */
  readonly shareOfExit: number;
}

/** Rows per span name, the exit's own server span first, then by total time, largest first. */
export function spanBreakdown(spans: readonly ReceivedSpan[], traceIds: ReadonlySet<string>, exitSpanName = "ExecuteExit"): SpanRow[] {
  const byName = new Map<string, number[]>();
  const exitTraces = new Set<string>();
  for (const span of spans) {
    if (!traceIds.has(span.traceId)) continue;
    if (span.name === exitSpanName && span.kind === 2) exitTraces.add(span.traceId);
  }
  let exitTotal = 0;
  const totals = new Map<string, number>();
  for (const span of spans) {
    if (!traceIds.has(span.traceId)) continue;
    let list = byName.get(span.name);
    if (!list) byName.set(span.name, (list = []));
    list.push(span.durationMs);
    if (exitTraces.has(span.traceId)) {
      totals.set(span.name, (totals.get(span.name) ?? 0) + span.durationMs);
      if (span.name === exitSpanName) exitTotal += span.durationMs;
    }
  }
  const rows = [...byName.entries()].map(([name, durations]) => {
    const summary = summarize(durations);
    return {
      name,
      count: summary.count,
      p50: round3(summary.p50),
      p99: round3(summary.p99),
      meanMs: round3(summary.mean),
      shareOfExit: exitTotal > 0 ? round3((totals.get(name) ?? 0) / exitTotal) : 0,
      total: totals.get(name) ?? 0,
    };
  });
  rows.sort((a, b) => (a.name === exitSpanName ? -1 : b.name === exitSpanName ? 1 : b.total - a.total));
  return rows.map(({ total: _total, ...row }) => row);
}
