/**
 * One setting of `npm run bench:tracing` (tracing-cost.ts), in a process of
 * its own: the production composition (embedded adapters, paper router),
 * and with `--redis url,url,url` a second one on Redis (the tracker store on
 * the first URL, Redlock over all of them, paper router in memory), traced to
 * `--otlp` when given, with the sampler the environment names.
 * Prints "ready", then answers each `{"calls":N,"concurrency":C,"target":T}`
 * line on stdin (T `embedded` or `redis`) with `{"cpuMicros":…,"gcMicros":…,"calls":N,"exited":…}`:
 * the process CPU of N exits run as the ExecuteExit handler runs them
 * (through the call middleware, the exit engine parented on the call's
 * trace), their lock releases and the export of their spans, and the garbage
 * collector's pauses in that time (wall time, as Node reports them). Stops when
 * stdin closes.
 */
import { PerformanceObserver } from "node:perf_hooks";
import { createContextValues } from "@connectrpc/connect";
import { Decimal } from "decimal.js";
import { pino } from "pino";
import { ExitReasonCode, ExitStatus, Segment, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { type Config, defaultConfig } from "../config.js";
import { type RunningTradingCore, startTradingCore } from "../main.js";
import { PaperRouter } from "../router/paper-router.js";
import { type CallInfo, runMiddleware } from "../rpc/call-middleware.js";
import { callTraceOf } from "../rpc/call-trace.js";
import { disabledTelemetry, startTelemetry } from "../telemetry/telemetry.js";

const INSTRUMENT = { segment: Segment.NSE_FNO, securityId: "52175" } as const;
const NO_HEADERS = { get: () => undefined };
const NEVER_ABORTED = new AbortController().signal;

async function main(): Promise<void> {
  const argument = (flag: string) => {
    const at = process.argv.indexOf(flag);
    return at >= 0 ? process.argv[at + 1] : undefined;
  };
  const otlpEndpoint = argument("--otlp");
  const redisUrls = argument("--redis")?.split(",");
  const telemetry = otlpEndpoint
    ? startTelemetry(
        { otlpEndpoint, serviceName: "tradingcore-tracing-cost" },
        { ...batchVariables(), OTEL_TRACES_EXPORTER: "otlp", OTEL_METRICS_EXPORTER: "none" },
      )
    : disabledTelemetry();
  const config: Config = { ...defaultConfig(), port: 0, engine: "grpc-js", logLevel: "silent", shutdownGraceMs: 1_000 };
  const start = (settings: Config) => startTradingCore(settings, { log: pino({ level: "silent" }), router: new PaperRouter(), telemetry });
  const cores = new Map<string, RunningTradingCore>([["embedded", await start(config)]]);
  if (redisUrls)
    cores.set(
      "redis",
      await start({ ...config, redisUrl: redisUrls[0]!, redisLockUrls: redisUrls, redisKeyPrefix: `tracing-cost:${process.pid}:` }),
    );
  for (const core of cores.values()) core.services.ticks.sink.write([{ ...INSTRUMENT, ltp: new Decimal("101.25"), timeMs: Date.now() }]);
  let sequence = 0;
  let gcMillis = 0;
  new PerformanceObserver((entries) => {
    for (const entry of entries.getEntries()) gcMillis += entry.duration;
  }).observe({ entryTypes: ["gc"] });

  const exitOnce = async (core: RunningTradingCore, orderNo: string): Promise<boolean> => {
    const call: CallInfo = {
      service: "tradingcore.v1.ExitService",
      method: "ExecuteExit",
      kind: "unary",
      engine: "grpc-js",
      protocol: "grpc",
      headers: NO_HEADERS,
      peer: "127.0.0.1:1",
      signal: NEVER_ABORTED,
      values: createContextValues(),
    };
    let exited = false;
    await runMiddleware(telemetry.middleware, call, async () => {
      const outcome = await core.services.engine.execute(
        { orderNo, reason: "bench", reasonCode: ExitReasonCode.STOP_LOSS },
        callTraceOf(call.values),
      );
      exited = outcome.status === ExitStatus.EXITED;
    });
    return exited;
  };

  const round = async (calls: number, concurrency: number, target: string) => {
    const core = cores.get(target);
    if (!core) throw new Error(`no ${target} composition in this process`);
    const { engine, store } = core.services;
    const orderNos = Array.from({ length: calls }, () => `C${process.pid}-${++sequence}`);
    for (const orderNo of orderNos)
      await store.register(
        {
          orderNo,
          ...INSTRUMENT,
          symbol: "NIFTY24DEC24000CE",
          side: Side.LONG,
          quantity: new Decimal(75),
          entryPrice: new Decimal("100.05"),
          status: TrackerStatus.ACTIVE,
          paper: true,
          meta: {},
        },
        Date.now(),
      );
    await telemetry.flush();
    const gcBefore = gcMillis;
    const before = process.cpuUsage();
    let next = 0;
    let exited = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, calls) }, async () => {
        while (next < calls) if (await exitOnce(core, orderNos[next++]!)) exited++;
      }),
    );
    await engine.whenIdle();
    await telemetry.flush();
    const used = process.cpuUsage(before);
    // GC entries reach the observer on a later turn of the event loop: let this round's arrive.
    await new Promise<void>((resolve) => setImmediate(resolve));
    return { cpuMicros: used.user + used.system, gcMicros: (gcMillis - gcBefore) * 1000, calls, exited };
  };

  let pending = "";
  let queue = Promise.resolve();
  process.stdin.on("data", (chunk: Buffer) => {
    pending += chunk.toString();
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const { calls, concurrency, target } = JSON.parse(pending.slice(0, newline)) as {
        calls: number;
        concurrency: number;
        target: string;
      };
      pending = pending.slice(newline + 1);
      queue = queue.then(async () => {
        process.stdout.write(`${JSON.stringify(await round(calls, concurrency, target))}\n`);
      });
    }
  });
  process.stdin.on("end", () => {
    void queue
      .then(() => Promise.all([...cores.values()].map((core) => core.stop())))
      .then(() => telemetry.shutdown())
      .finally(() => process.exit(0));
  });
  process.stdout.write("ready\n");
}

/** The batch span processor's `OTEL_BSP_*` variables of this environment, so that a run can try other batch settings. */
function batchVariables(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith("OTEL_BSP_")));
}

main().catch((error: unknown) => {
  process.stderr.write(`tracing-cost child: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
