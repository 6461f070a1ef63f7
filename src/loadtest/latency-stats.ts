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

export interface HistogramBucket {
  readonly fromMs: number;
  readonly toMs: number;
  readonly count: number;
}

/** `buckets` log-spaced buckets from the smallest sample to the largest (latencies are skewed: a long tail). */
export function histogram(samples: readonly number[], buckets = 30): HistogramBucket[] {
  if (samples.length === 0) return [];
  let low = Infinity;
  let high = 0;
  for (const sample of samples) {
    if (sample < low) low = sample;
    if (sample > high) high = sample;
  }
  low = Math.max(low, 0.001);
  if (high <= low * 1.0001) return [{ fromMs: round3(low), toMs: round3(high), count: samples.length }];
  const ratio = Math.log(high / low);
  const counts = new Array<number>(buckets).fill(0);
  for (const sample of samples) {
    const at = sample <= low ? 0 : Math.floor((Math.log(sample / low) / ratio) * buckets);
    counts[Math.min(buckets - 1, at)]!++;
  }
  const edge = (index: number) => round3(low * Math.exp((ratio * index) / buckets));
  return counts.map((count, index) => ({ fromMs: edge(index), toMs: edge(index + 1), count }));
}

export interface TimelinePoint {
  /** Start of the window, s since the load started. */
  readonly atS: number;
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
}

/** Latency percentiles per window of `windowMs`, by when each call ended. */
export function timeline(latencies: readonly number[], doneAtMs: readonly number[], elapsedMs: number, windowMs: number): TimelinePoint[] {
  const windows = Math.max(1, Math.ceil(elapsedMs / windowMs));
  const buckets = Array.from({ length: windows }, () => [] as number[]);
  latencies.forEach((latency, index) => {
    buckets[Math.min(windows - 1, Math.floor((doneAtMs[index] ?? 0) / windowMs))]!.push(latency);
  });
  return buckets.map((bucket, index) => {
    const sorted = Float64Array.from(bucket).sort();
    const values = Array.from(sorted);
    return {
      atS: round3((index * windowMs) / 1000),
      count: values.length,
      p50: round3(percentile(values, 50)),
      p99: round3(percentile(values, 99)),
    };
  });
}
