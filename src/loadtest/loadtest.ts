/**
 * `npm run loadtest`: a traced load test. Registers trackers, publishes a
 * tick, drives ExecuteExit (and GetLtp) with @grpc/grpc-js, each call with
 * its own W3C traceparent; receives the server's spans over OTLP itself and
 * says where the time went per span name. Bounded in time and count;
 * loopback only unless --allow-remote.
 *
 *   npm run loadtest -- [--target 127.0.0.1:50051] [--engine grpc-js|connect]
 *       [--concurrency 16 | --rps 2000] [--duration 30s] [--max-calls N]
 *       [--trackers 10000] [--ltp-share 0.2] [--otlp-port 4318] [--no-receiver]
 *       [--json out.json] [--html out.html] [--short] [--no-progress] [--allow-remote]
 *
 * Without --target it starts a server itself (tracing to its own receiver).
 * With --target, start that server with OTEL_EXPORTER_OTLP_ENDPOINT set to
 * the receiver address this tool prints (default http://127.0.0.1:4318);
 * when that port is taken (a collector of your own), it receives nothing
 * and says so. Ctrl-C stops the load and reports what was measured.
 */
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import { Segment, Side } from "../../gen/tradingcore/v1/common_pb.js";
import { TickService } from "../../gen/tradingcore/v1/tick_pb.js";
import { answeredInformationalFlag } from "../cli-help.js";
import { createGrpcJsClient } from "../client/grpc-js-client.js";
import { driveLoad } from "./load-driver.js";
import { loadtestHelp } from "./loadtest-help.js";
import { parseLoadtestOptions, type LoadtestOptions } from "./loadtest-options.js";
import { loadtestHtml } from "./loadtest-html.js";
import { buildLoadtestReport, formatLoadtestReport, type LoadtestReport } from "./loadtest-report.js";
import { startOtlpReceiver, type OtlpReceiver } from "./otlp-receiver.js";
import { runInfo } from "./run-info.js";
import { spanBreakdown, untracedShareOfExit } from "./span-breakdown.js";
import { startTradingCoreProcess, type TradingCoreProcess } from "./tradingcore-process.js";

const INSTRUMENT = { segment: Segment.NSE_FNO, securityId: "LOAD1" };
const SPAN_WAIT_MS = 10_000;

export interface LoadtestHooks {
  /** One line for the operator (stderr by default). */
  readonly say?: (line: string) => void;
  /** Aborted (Ctrl-C): stop registering and driving, and report what was measured so far. */
  readonly signal?: AbortSignal;
  /** Progress of the tracker registration: done of total, about every 250 ms and at the end. */
  readonly onRegistered?: (done: number, total: number) => void;
}

/** Runs one load test and answers its report; the CLI below prints and writes it. */
export async function runLoadtest(options: LoadtestOptions, hooks: LoadtestHooks | ((line: string) => void) = {}): Promise<LoadtestReport> {
  const {
    say = (line: string) => process.stderr.write(`${line}\n`),
    signal,
    onRegistered,
  } = typeof hooks === "function" ? { say: hooks } : hooks;
  const startedAt = new Date();
  const notes: string[] = [];
  const receiver = options.receive ? await openReceiver(options, say, notes) : undefined;
  let server: TradingCoreProcess | undefined;
  try {
    if (options.target === undefined) {
      server = await startTradingCoreProcess({
        engine: options.engine,
        args: ["--log-level", "info"],
        env: receiver ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_SERVICE_NAME: "tradingcore-loadtest" } : {},
      });
      say(`started tradingcore (${options.engine}) at ${server.address}, pid ${server.pid}`);
    } else if (receiver) {
      say(`receiving spans at ${receiver.endpoint}: start the target with OTEL_EXPORTER_OTLP_ENDPOINT=${receiver.endpoint}`);
    }
    const address = options.target ?? server!.address;
    const exits = createGrpcJsClient(ExitService, address);
    const ticks = createGrpcJsClient(TickService, address);
    try {
      const orderNos = await registerTrackers(
        exits,
        options.trackers,
        say,
        signal,
        onRegistered ?? (options.progress ? registrationBar : undefined),
      );
      await ticks.publishTicks([{ ticks: [{ instrument: INSTRUMENT, ltp: "101.25" }] }]);
      say(
        options.rps
          ? `driving ${options.rps} calls/s for up to ${options.durationMs / 1000} s`
          : `driving ${options.concurrency} calls in flight for up to ${options.durationMs / 1000} s`,
      );
      const load = await driveLoad(
        { exits, ticks },
        {
          orderNos,
          instrument: INSTRUMENT,
          concurrency: options.concurrency,
          rps: options.rps,
          durationMs: options.durationMs,
          maxCalls: options.maxCalls,
          ltpShare: options.ltpShare,
          ...(signal ? { signal } : {}),
          ...(options.progress ? { onProgress: progressBar(options) } : {}),
        },
      );
      if (options.progress) process.stderr.write("\n");
      if (signal?.aborted)
        notes.push(`interrupted after ${(load.elapsedMs / 1000).toFixed(1)} s: the figures cover the ${load.calls} calls made until then`);
      if (load.calls >= orderNos.length && options.ltpShare === 0)
        notes.push(`stopped when the ${orderNos.length} trackers ran out; pass --trackers for more`);
      if (load.skipped > 0) notes.push(`${load.skipped} calls were not started: ${"over 10000 in flight"}`);
      const exitCalls = Object.values(load.statuses.ExecuteExit).reduce((sum, count) => sum + count, 0);
      if (receiver) {
        const serverSpans = () => receiver.spans.filter((span) => span.kind === 2 && load.traceIds.has(span.traceId)).length;
        let complete = await receiver.waitFor(() => serverSpans() >= load.calls, signal?.aborted ? 2_000 : SPAN_WAIT_MS);
        if (!complete && server) {
          await server.stop(); // a graceful stop flushes the server's span batch
          server = undefined;
          complete = await receiver.waitFor(() => serverSpans() >= load.calls, 2_000);
        }
        if (!complete) notes.push(`received server spans for ${serverSpans()} of ${load.calls} calls`);
        if (receiver.dropped > 0) notes.push(`${receiver.dropped} spans over the receiver's limit were not kept`);
      } else if (!options.receive) {
        notes.push("no spans received (--no-receiver): see your collector for the per-span breakdown");
      }
      return buildLoadtestReport({
        run: runInfo(startedAt),
        settings: { ...options, target: address, exitCalls },
        calls: load.calls,
        elapsedMs: load.elapsedMs,
        exitLatencies: load.exitLatencies,
        ltpLatencies: load.ltpLatencies,
        exitDoneAtMs: load.exitDoneAtMs,
        ltpDoneAtMs: load.ltpDoneAtMs,
        statuses: load.statuses,
        spans: receiver ? spanBreakdown(receiver.spans, load.traceIds) : [],
        untracedShareOfExit: receiver ? untracedShareOfExit(receiver.spans, load.traceIds) : 0,
        spansReceived: receiver?.spans.length ?? 0,
        notes,
      });
    } finally {
      exits.close();
      ticks.close();
    }
  } finally {
    await server?.stop();
    await receiver?.close();
  }
}

/**
 * The OTLP receiver, on --otlp-port. With --target and the default port
 * taken, a collector of the operator's own is most likely there, and the
 * target exports to it: run without a receiver and say so. An explicit
 * --otlp-port that is taken stops the run, naming it.
 */
async function openReceiver(options: LoadtestOptions, say: (line: string) => void, notes: string[]): Promise<OtlpReceiver | undefined> {
  try {
    return await startOtlpReceiver({ port: options.otlpPort });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    if (options.otlpPortGiven)
      throw new Error(`--otlp-port ${options.otlpPort} is in use: pick another, 0 for any free one, or --no-receiver`);
    const note = `port ${options.otlpPort} is in use (a collector?): receiving no spans, so no per-span breakdown; --otlp-port 0 receives on a free port, --no-receiver skips this check`;
    say(note);
    notes.push(note);
    return undefined;
  }
}

async function registerTrackers(
  exits: ReturnType<typeof createGrpcJsClient<(typeof ExitService)["method"]>>,
  count: number,
  say: (line: string) => void,
  signal: AbortSignal | undefined,
  onRegistered: ((done: number, total: number) => void) | undefined,
): Promise<string[]> {
  const runId = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  const orderNos = Array.from({ length: count }, (_, index) => `L${runId}-${index}`);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < orderNos.length && !signal?.aborted) {
      const orderNo = orderNos[next++]!;
      await exits.registerTracker({ orderNo, ...INSTRUMENT, side: Side.LONG, quantity: "50", entryPrice: "100.10", paper: true });
      done++;
    }
  };
  const progress = onRegistered ? setInterval(() => onRegistered(done, count), 250) : undefined;
  try {
    await Promise.all(Array.from({ length: 64 }, worker));
  } finally {
    clearInterval(progress);
  }
  onRegistered?.(done, count);
  say(`registered ${done} trackers`);
  return orderNos.slice(0, done);
}

function registrationBar(done: number, total: number): void {
  process.stderr.write(`\rregistering trackers: ${done} of ${total}${done === total ? "\n" : " "}`);
}

function progressBar(options: LoadtestOptions): (done: number, elapsedMs: number) => void {
  return (done, elapsedMs) => {
    const share = Math.min(1, Math.max(elapsedMs / options.durationMs, done / options.maxCalls));
    const width = 30;
    const filled = Math.round(share * width);
    process.stderr.write(
      `\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done} calls, ${((done * 1000) / Math.max(1, elapsedMs)).toFixed(0)}/s `,
    );
  };
}

async function main(): Promise<void> {
  if (answeredInformationalFlag(process.argv.slice(2), loadtestHelp)) return;
  const options = parseLoadtestOptions(process.argv.slice(2));
  const interrupt = new AbortController();
  process.once("SIGINT", () => {
    process.stderr.write(
      "\ninterrupted: letting the calls in flight finish, then reporting what was measured (Ctrl-C again quits at once)\n",
    );
    interrupt.abort();
    process.once("SIGINT", () => process.exit(130));
  });
  const report = await runLoadtest(options, { signal: interrupt.signal });
  process.stdout.write(`${formatLoadtestReport(report)}\n`);
  if (options.json) writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
  if (options.html) writeFileSync(options.html, loadtestHtml(report));
  if (!options.json) process.stdout.write(`\n${JSON.stringify(report)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`loadtest: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
