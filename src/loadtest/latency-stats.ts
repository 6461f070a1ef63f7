/**
 * Exact latency percentiles over every sample (sorted once), in ms. Numbers
 * here are latencies and rates, never money.
 */

export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** The nearest-rank percentile `p` (0..100) of ascending `sorted`; 0 for no samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const values = Array.from(sorted);
  const sum = values.reduce((total, value) => total + value, 0);
  return {
    count: values.length,
    mean: values.length === 0 ? 0 : sum / values.length,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    p999: percentile(values, 99.9),
    max: values.length === 0 ? 0 : values[values.length - 1]!,
  };
}

/** Rounds for display and JSON: 3 decimals. */
export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
