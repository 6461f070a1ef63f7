/**
 * Where the time went: the spans a load test received, grouped by name,
 * restricted to the traces the load test started itself.
 */
import { round3, summarize } from "./latency-stats.js";
import type { ReceivedSpan } from "./otlp-span-decoder.js";

/**
 * Steps an exit runs after its answer: the lock release, whose span runs from the answer (it waits a turn
 * of the event loop so the answer is written first) to the lock's release. Not part of the exit's time.
 */
export const STEPS_AFTER_THE_ANSWER: ReadonlySet<string> = new Set(["exit.lock.release"]);

export interface SpanRow {
  readonly name: string;
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly meanMs: number;
  /** This span name's total time over the ExecuteExit server spans' total time (0..1); steps that overlapped would add up to more than 1. */
  readonly shareOfExit: number;
  /** True when spans of this name occur in the ExecuteExit traces (false: only in GetLtp's, say). */
  readonly inExitTraces: boolean;
  /** A step that runs after the exit has answered (STEPS_AFTER_THE_ANSWER): its share is of the exit's time, but outside it. */
  readonly afterAnswer: boolean;
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
      inExitTraces: totals.has(name),
      afterAnswer: STEPS_AFTER_THE_ANSWER.has(name),
      total: totals.get(name) ?? 0,
    };
  });
  rows.sort((a, b) => (a.name === exitSpanName ? -1 : b.name === exitSpanName ? 1 : b.total - a.total));
  return rows.map(({ total: _total, ...row }) => row);
}

/**
 * The share of the ExecuteExit server spans' time that their direct children
 * (the steps before the answer) do not account for (0..1): the handler's own code between
 * steps, and middleware and (de)serialization inside the span. Computed from
 * durations, which the OpenTelemetry SDK measures exactly, not from start
 * times, which it takes from the millisecond wall clock.
 */
export function untracedShareOfExit(spans: readonly ReceivedSpan[], traceIds: ReadonlySet<string>, exitSpanName = "ExecuteExit"): number {
  const exits = new Map<string, { readonly durationMs: number; children: number }>();
  for (const span of spans)
    if (span.name === exitSpanName && span.kind === 2 && traceIds.has(span.traceId))
      exits.set(span.spanId, { durationMs: span.durationMs, children: 0 });
  for (const span of spans) {
    const parent = exits.get(span.parentSpanId);
    if (parent && !STEPS_AFTER_THE_ANSWER.has(span.name)) parent.children += span.durationMs;
  }
  let total = 0;
  let untraced = 0;
  for (const exit of exits.values()) {
    total += exit.durationMs;
    untraced += Math.max(0, exit.durationMs - exit.children);
  }
  return total > 0 ? round3(untraced / total) : 0;
}
