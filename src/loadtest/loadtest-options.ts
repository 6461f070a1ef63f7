/**
 * Flags of `npm run loadtest`, validated before anything starts. Every run
 * is bounded: by duration, by a call count and by the trackers registered
 * (each exit uses one). Targets must be loopback unless --allow-remote.
 */
import { parseArgs } from "node:util";

export interface LoadtestOptions {
  /** host:port of a running server; undefined: the load test starts one itself. */
  readonly target: string | undefined;
  /** Engine of the server the load test starts. */
  readonly engine: "grpc-js" | "connect";
  /** Closed loop: this many calls in flight. Ignored when `rps` is set. */
  readonly concurrency: number;
  /** Open loop: calls started per second (latency counted from the scheduled start). */
  readonly rps: number | undefined;
  readonly durationMs: number;
  readonly maxCalls: number;
  readonly trackers: number;
  /** Share of calls that are GetLtp instead of ExecuteExit (0..1). */
  readonly ltpShare: number;
  /** Port of the built-in OTLP receiver; 0 picks one. */
  readonly otlpPort: number;
  /** True when --otlp-port was given (then a port in use stops the run rather than skipping the receiver). */
  readonly otlpPortGiven: boolean;
  /** False: receive no spans (the server exports to a collector of its own). */
  readonly receive: boolean;
  readonly json: string | undefined;
  readonly html: string | undefined;
  readonly progress: boolean;
}

const MAX_DURATION_MS = 10 * 60_000;

/**
 * Every flag of the load test as parseArgs reads it, with what `--help` says
 * about it (parseArgs ignores the description): the parser and the help
 * cannot disagree.
 */
export const LOADTEST_FLAGS = {
  target: { type: "string", description: "host:port of a running server to load; unset: the load test starts one itself" },
  engine: { type: "string", default: "grpc-js", description: "engine of the server the load test starts: grpc-js or connect" },
  concurrency: { type: "string", description: "closed loop: this many calls in flight (default 16, --short 4)" },
  rps: {
    type: "string",
    description: "open loop: calls started per second, latency counted from the scheduled start (not with --concurrency)",
  },
  duration: { type: "string", description: "how long to drive load: 30s, 500ms, 2m, at most 10m (default 30s, --short 2s)" },
  "max-calls": { type: "string", description: "stop after this many calls (default 5000000, --short 2000)" },
  trackers: { type: "string", description: "trackers registered before the run; each exit uses one (default 10000, --short 300)" },
  "ltp-share": { type: "string", default: "0", description: "share of calls that are GetLtp instead of ExecuteExit, 0..1" },
  "otlp-port": {
    type: "string",
    description: "port of the built-in OTLP receiver of the server's spans; 0 picks one (default 0, with --target 4318)",
  },
  "no-receiver": { type: "boolean", default: false, description: "receive no spans (the server exports to a collector of its own)" },
  "allow-remote": { type: "boolean", default: false, description: "allow a --target beyond loopback" },
  short: { type: "boolean", default: false, description: "a short run: smaller defaults, for a quick look" },
  json: { type: "string", description: "write the report as JSON to this file" },
  html: { type: "string", description: "write the report as an HTML page to this file" },
  "no-progress": {
    type: "boolean",
    default: false,
    description: "no progress bar on stderr (there is none when stderr is not a terminal)",
  },
} satisfies Record<string, { type: "string" | "boolean"; default?: string | boolean; description: string }>;

export function parseLoadtestOptions(argv: readonly string[]): LoadtestOptions {
  const { values } = parseArgs({ args: [...argv], options: LOADTEST_FLAGS });
  const short = values.short;
  const target = values.target;
  if (target !== undefined && !values["allow-remote"] && !isLoopback(target)) {
    throw new Error(`--target ${target} is not a loopback address; pass --allow-remote to load a remote server`);
  }
  if (values.engine !== "grpc-js" && values.engine !== "connect")
    throw new Error(`--engine must be grpc-js or connect, got "${values.engine}"`);
  const ltpShare = Number(values["ltp-share"]);
  if (!(ltpShare >= 0 && ltpShare <= 1)) throw new Error(`--ltp-share must be between 0 and 1, got "${values["ltp-share"]}"`);
  if (values.rps !== undefined && values.concurrency !== undefined) throw new Error("give --rps or --concurrency, not both");
  return {
    target,
    engine: values.engine,
    concurrency: whole(values.concurrency, short ? 4 : 16, 1, 10_000, "--concurrency"),
    rps: values.rps === undefined ? undefined : whole(values.rps, 0, 1, 1_000_000, "--rps"),
    durationMs: duration(values.duration ?? (short ? "2s" : "30s")),
    maxCalls: whole(values["max-calls"], short ? 2_000 : 5_000_000, 1, 50_000_000, "--max-calls"),
    trackers: whole(values.trackers, short ? 300 : 10_000, 1, 2_000_000, "--trackers"),
    ltpShare,
    otlpPort: whole(values["otlp-port"], target === undefined ? 0 : 4318, 0, 65_535, "--otlp-port"),
    otlpPortGiven: values["otlp-port"] !== undefined,
    receive: !values["no-receiver"],
    json: values.json,
    html: values.html,
    progress: !values["no-progress"] && process.stderr.isTTY === true,
  };
}

function whole(text: string | undefined, fallback: number, min: number, max: number, flag: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`${flag} must be a whole number in ${min}..${max}, got "${text}"`);
  return value;
}

/** "30s", "500ms", "2m", or plain seconds; at most 10 minutes. */
export function duration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new Error(`--duration "${text}" is not a duration like 30s, 500ms or 2m`);
  const value = Number(match[1]) * (match[2] === "ms" ? 1 : match[2] === "m" ? 60_000 : 1_000);
  if (value <= 0 || value > MAX_DURATION_MS) throw new Error(`--duration must be above 0 and at most 10m, got "${text}"`);
  return value;
}

function isLoopback(target: string): boolean {
  const host = target.startsWith("[") ? target.slice(1, target.indexOf("]")) : target.slice(0, target.lastIndexOf(":"));
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
