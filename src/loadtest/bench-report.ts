/**
 * What `npm run bench` prints: one table of rows with ratios to the floor,
 * and the goals of the issue checked against the same run's figures.
 */
import { round3, type LatencySummary } from "./latency-stats.js";

export interface RowResult {
  readonly id: string;
  readonly label: string;
  readonly c1: LatencySummary;
  /** Calls per second at the high concurrency. */
  readonly throughput: number;
  /**
   * Server process CPU time per call at the high concurrency, µs: steadier
   * than throughput on a shared machine, and what bounds throughput when the
   * server is the bottleneck. Redis's own CPU is not included.
   */
  readonly serverCpuMicrosPerCall: number;
  /**
   * The bench's own CPU per call at the high concurrency, µs (the client, and
   * the OTLP sink for traced rows): when it nears a core's worth, the row
   * measures the client as much as the server.
   */
  readonly clientCpuMicrosPerCall?: number;
  /** Calls that failed or answered something other than the expected status. */
  readonly errors: number;
  /** The same figures per round, in round order: ratios between rows are taken round by round. */
  readonly rounds?: readonly RoundFigures[];
}

export interface RoundFigures {
  readonly throughput: number;
  readonly serverCpuMicrosPerCall: number;
}

/**
 * The ratio of two rows' figures: the median of the per-round ratios when both
 * have rounds (rows run side by side in each round, so a burst of noise on the
 * machine moves one round's ratio, not the median), else the ratio of totals.
 */
export function sideBySideRatio(
  a: RowResult,
  b: RowResult,
  pick: (figures: RoundFigures) => number,
): { median: number; low: number; high: number } {
  const pairs = Math.min(a.rounds?.length ?? 0, b.rounds?.length ?? 0);
  if (pairs === 0) {
    const whole = pick(a) / pick(b);
    return { median: whole, low: whole, high: whole };
  }
  const ratios = Array.from({ length: pairs }, (_, round) => pick(a.rounds![round]!) / pick(b.rounds![round]!)).sort((x, y) => x - y);
  const middle = Math.floor(pairs / 2);
  const median = pairs % 2 === 1 ? ratios[middle]! : (ratios[middle - 1]! + ratios[middle]!) / 2;
  return { median, low: ratios[0]!, high: ratios[pairs - 1]! };
}

const throughputOf = (figures: RoundFigures) => figures.throughput;
const cpuOf = (figures: RoundFigures) => figures.serverCpuMicrosPerCall;

/** "0.62x" with the per-round range when there is more than one round. */
function ratioText(ratio: { median: number; low: number; high: number }): string {
  const range = ratio.low === ratio.high ? "" : ` (rounds ${ratio.low.toFixed(2)}-${ratio.high.toFixed(2)})`;
  return `${ratio.median.toFixed(2)}x${range}`;
}

export interface GoalCheck {
  readonly goal: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

/** PublishTicks ingest: ticks accepted per second over one client stream. */
export interface IngestResult {
  readonly id: string;
  readonly label: string;
  readonly ticksPerSecond: number;
}

/** c=1 ExecuteExit latency on a server holding `trackers` registered trackers. */
export interface StoreSizeResult {
  readonly id: string;
  readonly label: string;
  readonly trackers: number;
  readonly c1: LatencySummary;
  readonly errors: number;
}

export interface BenchReport {
  readonly settings: Record<string, unknown>;
  readonly ingest: readonly IngestResult[];
  readonly storeSizes: readonly StoreSizeResult[];
  /** c=1 PING through node-redis to the first Redis node, when Redis ran. */
  readonly redisRoundTrip?: LatencySummary;
  readonly rows: (RowResult & { readonly throughputVsFloor: number; readonly p50VsFloor: number; readonly cpuVsFloor: number })[];
  readonly goals: readonly GoalCheck[];
}

export function buildReport(
  settings: Record<string, unknown>,
  rows: readonly RowResult[],
  ingest: readonly IngestResult[] = [],
  storeSizes: readonly StoreSizeResult[] = [],
  redisRoundTrip?: LatencySummary,
): BenchReport {
  const floor = rows.find((row) => row.id === "floor");
  const withRatios = rows.map((row) => ({
    ...row,
    throughputVsFloor: floor ? round3(sideBySideRatio(row, floor, throughputOf).median) : 0,
    p50VsFloor: floor ? round3(row.c1.p50 / floor.c1.p50) : 0,
    cpuVsFloor: floor ? round3(sideBySideRatio(row, floor, cpuOf).median) : 0,
    serverCpuMicrosPerCall: round3(row.serverCpuMicrosPerCall),
  }));
  const goals = goalChecks(rows, typeof settings.samplingRatio === "number" ? settings.samplingRatio : 1);
  goals.push(...redisRoundTripChecks(rows, redisRoundTrip));
  const redisIngest = ingest.find((result) => result.id === "ingest.redis");
  if (redisIngest) {
    goals.push({
      goal: "PublishTicks ingest with Redis write-behind on",
      target: ">= 100000 ticks/s",
      measured: `${redisIngest.ticksPerSecond.toFixed(0)} ticks/s`,
      met: redisIngest.ticksPerSecond >= 100_000,
    });
  }
  const [small, large] = storeSizes;
  if (small && large) {
    const ratio = large.c1.p50 / small.c1.p50;
    goals.push({
      goal: `ExecuteExit c=1 p50 with ${large.trackers} trackers vs ${small.trackers} (embedded, grpc-js)`,
      target: "<= 1.10x",
      measured: `${ratio.toFixed(2)}x (p99: ${(large.c1.p99 / small.c1.p99).toFixed(2)}x)`,
      met: ratio <= 1.1,
    });
  }
  return {
    settings,
    ...(redisRoundTrip ? { redisRoundTrip } : {}),
    storeSizes,
    ingest: ingest.map((result) => ({ ...result, ticksPerSecond: round3(result.ticksPerSecond) })),
    rows: withRatios,
    goals,
  };
}

function goalChecks(rows: readonly RowResult[], samplingRatio: number): GoalCheck[] {
  const get = (id: string) => rows.find((row) => row.id === id);
  const checks: GoalCheck[] = [];
  const ratio = (goal: string, a: RowResult | undefined, b: RowResult | undefined, min: number) => {
    if (!a || !b) return;
    const value = sideBySideRatio(a, b, throughputOf);
    const byCpu = sideBySideRatio(b, a, cpuOf).median;
    checks.push({
      goal,
      target: `>= ${min.toFixed(2)}x`,
      measured: `${ratioText(value)} (server CPU: ${byCpu.toFixed(2)}x)`,
      met: value.median >= min,
    });
  };
  const gap = (goal: string, a: RowResult | undefined, b: RowResult | undefined, maxMs: number) => {
    if (!a || !b) return;
    const value = a.c1.p50 - b.c1.p50;
    checks.push({ goal, target: `<= ${maxMs.toFixed(2)} ms`, measured: `${value.toFixed(3)} ms`, met: value <= maxMs });
  };
  /** The share of `plain`'s throughput that `traced` loses; checked against `maxShare`, or reported for reference without one. */
  const cost = (goal: string, traced: RowResult | undefined, plain: RowResult | undefined, maxShare?: number) => {
    if (!traced || !plain) return;
    const kept = sideBySideRatio(traced, plain, throughputOf);
    const value = 1 - kept.median;
    const byCpu = 1 - sideBySideRatio(plain, traced, cpuOf).median;
    const range = kept.low === kept.high ? "" : ` (rounds ${((1 - kept.high) * 100).toFixed(1)}-${((1 - kept.low) * 100).toFixed(1)}%)`;
    checks.push({
      goal,
      target: maxShare === undefined ? "reference" : `<= ${(maxShare * 100).toFixed(0)}%`,
      measured: `${(value * 100).toFixed(1)}%${range} (server CPU: ${(byCpu * 100).toFixed(1)}%)`,
      met: maxShare === undefined ? undefined : value <= maxShare,
    });
  };
  ratio("ExecuteExit, 3 Redis lock nodes + Redis store, c=32, vs grpc-js no-op floor", get("exit.redis"), get("floor"), 0.6);
  gap("ExecuteExit c=1 p50 above no-op on the same server (grpc-js)", get("exit.grpc-js"), get("noop.grpc-js"), 0.6);
  gap("ExecuteExit c=1 p50 above no-op on the same server (connect)", get("exit.connect"), get("noop.connect"), 0.6);
  gap("ExecuteExit (Redis) c=1 p50 above no-op on the same server (grpc-js)", get("exit.redis"), get("noop.grpc-js"), 0.6);
  ratio("GetLtp (memory hit) c=32 vs no-op on the same server (grpc-js)", get("ltp.grpc-js"), get("noop.grpc-js"), 0.9);
  ratio("GetLtp (memory hit) c=32 vs no-op on the same server (connect)", get("ltp.connect"), get("noop.connect"), 0.9);
  // Goals: at full sampling the embedded exit loses at most 10 %, the Redis exit 15 %; at a 10 % ratio the Redis exit 3 %.
  const sampled = samplingRatio < 1 ? `${+(samplingRatio * 100).toFixed(2)}% parent-based ratio` : "100% sampled";
  cost(
    `tracing on (${sampled}, batch OTLP export): exit throughput cost, embedded`,
    get("exit.grpc-js.traced"),
    get("exit.grpc-js"),
    samplingRatio < 1 ? undefined : 0.1,
  );
  cost(
    `tracing on (${sampled}, batch OTLP export): exit throughput cost, Redis`,
    get("exit.redis.traced"),
    get("exit.redis"),
    samplingRatio < 1 ? 0.03 : 0.15,
  );
  cost("tracing and metrics on (OTLP endpoint alone): exit throughput cost, embedded", get("exit.grpc-js.telemetry"), get("exit.grpc-js"));
  const connect = get("noop.connect");
  const floor = get("floor");
  if (connect && floor) {
    const byCpu = sideBySideRatio(floor, connect, cpuOf).median;
    const value = sideBySideRatio(connect, floor, throughputOf);
    checks.push({
      goal: "connect-node no-op c=32 vs grpc-js floor (docs/design.md section 7: about 0.36x)",
      target: "reference",
      measured: `${ratioText(value)} (server CPU: ${byCpu.toFixed(2)}x)`,
      met: undefined,
    });
  }
  return checks;
}

/** The Redis exit read in bare round trips (its p50 above the embedded exit's), and its server CPU against the floor's. */
function redisRoundTripChecks(rows: readonly RowResult[], ping: LatencySummary | undefined): GoalCheck[] {
  const redis = rows.find((row) => row.id === "exit.redis");
  const embedded = rows.find((row) => row.id === "exit.grpc-js");
  const floor = rows.find((row) => row.id === "floor");
  const checks: GoalCheck[] = [];
  if (redis && embedded && ping && ping.p50 > 0) {
    const gap = redis.c1.p50 - embedded.c1.p50;
    const trips = gap / ping.p50;
    checks.push({
      goal: "Redis exit c=1 p50 minus embedded exit c=1 p50, in bare Redis round trips (PING p50)",
      target: "<= 3.50x",
      measured: `${trips.toFixed(2)}x (${gap.toFixed(3)} ms / ${ping.p50.toFixed(3)} ms)`,
      met: trips <= 3.5,
    });
  }
  if (redis && floor) {
    const byCpu = sideBySideRatio(redis, floor, cpuOf);
    checks.push({
      goal: "server CPU per Redis exit vs the floor's (c=32)",
      target: "<= 3.50x",
      measured: ratioText(byCpu),
      met: byCpu.median <= 3.5,
    });
  }
  return checks;
}

export function formatReport(report: BenchReport): string {
  const lines: string[] = [];
  const header = [
    "row",
    "c=1 p50 ms",
    "c=1 p99 ms",
    "c=32 calls/s",
    "thr/floor",
    "p50/floor",
    "srv CPU us/call",
    "cpu/floor",
    "client CPU us/call",
    "errors",
  ];
  const body = report.rows.map((row) => [
    row.label,
    row.c1.p50.toFixed(3),
    row.c1.p99.toFixed(3),
    row.throughput.toFixed(0),
    `${row.throughputVsFloor.toFixed(2)}x`,
    `${row.p50VsFloor.toFixed(2)}x`,
    row.serverCpuMicrosPerCall.toFixed(0),
    `${row.cpuVsFloor.toFixed(2)}x`,
    row.clientCpuMicrosPerCall === undefined ? "-" : row.clientCpuMicrosPerCall.toFixed(0),
    String(row.errors),
  ]);
  lines.push(...table(header, body));
  lines.push("");
  if (report.redisRoundTrip) {
    const ping = report.redisRoundTrip;
    lines.push(
      `bare Redis round trip (PING through node-redis, c=1): p50 ${ping.p50.toFixed(3)} ms, p99 ${ping.p99.toFixed(3)} ms, ${ping.count} calls`,
      "",
    );
  }
  if (report.storeSizes.length > 0) {
    lines.push(
      ...table(
        ["store size (c=1, side by side)", "trackers", "p50 ms", "p99 ms", "calls", "errors"],
        report.storeSizes.map((size) => [
          size.label,
          String(size.trackers),
          size.c1.p50.toFixed(3),
          size.c1.p99.toFixed(3),
          String(size.c1.count),
          String(size.errors),
        ]),
      ),
    );
    lines.push("");
  }
  if (report.ingest.length > 0) {
    lines.push(
      ...table(
        ["ingest (one client stream)", "ticks/s"],
        report.ingest.map((result) => [result.label, result.ticksPerSecond.toFixed(0)]),
      ),
    );
    lines.push("");
  }
  lines.push(
    ...table(
      ["goal", "target", "measured", "met"],
      report.goals.map((goal) => [goal.goal, goal.target, goal.measured, goal.met === undefined ? "-" : goal.met ? "yes" : "NO"]),
    ),
  );
  return lines.join("\n");
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  return [line(header), widths.map((width) => "-".repeat(width)).join("  "), ...rows.map(line)];
}
