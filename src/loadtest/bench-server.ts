/**
 * The server side of `npm run bench`, run as a child process so that client
 * and server each have a core of their own. It hosts every target the bench
 * alternates between (only one is busy at a time):
 *
 * - `floor`: a plain @grpc/grpc-js server answering grpc.health.v1 Check with
 *   a constant (the transport floor, same path and messages as ours);
 * - `ours`: tradingcore, embedded adapters, grpc-js and connect engines;
 * - `redis`: tradingcore on grpc-js configured with `--redis-url` (tracker
 *   store, tick write-behind) and `--redis-lock-urls` (Redlock over every
 *   node listed in `--redis`), paper router in memory.
 *
 * Telemetry is per process (the OTel SDK is global): `--tracing on` exports
 * every span over OTLP to `--otlp`, `--metrics on` the metrics. Prints one JSON line of addresses on
 * stdout, then serves until stdin closes or SIGTERM; a `cpu` line on stdin
 * is answered with `{"cpuMicros": N}`, the process's CPU time so far, and a
 * `flush` line, once every span ended so far is exported, with `{"flushed": true}`.
 *
 *   tsx src/loadtest/bench-server.ts --tracing on|off --metrics on|off [--otlp url] [--redis url,url,url]
 *                                    [--protection-flush-ms N] (the Redis composition's)
 */
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { Health, HealthCheckResponseSchema, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { grpcJsServiceDefinition } from "../rpc/grpc-js-definition.js";
import { defaultConfig, type Config } from "../config.js";
import { startTradingCore, type RunningTradingCore } from "../main.js";
import { PaperRouter } from "../router/paper-router.js";
import { startTelemetry } from "../telemetry/telemetry.js";
import { tuneRuntime } from "../runtime-tuning.js";

export interface BenchTargets {
  readonly floor: string;
  readonly grpcJs: string;
  readonly connect: string;
  readonly redis?: string;
  /** The same Redis composition with the audit trail in memory: what appending to the Redis trail costs an exit. */
  readonly redisNoTrail?: string;
}

async function main(): Promise<void> {
  // As main.ts's command line does: the bench measures the server as it runs.
  tuneRuntime();
  const { values } = parseArgs({
    options: {
      tracing: { type: "string", default: "off" },
      metrics: { type: "string", default: "off" },
      otlp: { type: "string" },
      redis: { type: "string" },
      "protection-flush-ms": { type: "string" },
    },
  });
  const telemetry =
    values.tracing === "on" || values.metrics === "on"
      ? startTelemetry(
          { otlpEndpoint: values.otlp ?? "", serviceName: "tradingcore-bench" },
          {
            OTEL_TRACES_EXPORTER: values.tracing === "on" ? "otlp" : "none",
            OTEL_METRICS_EXPORTER: values.metrics === "on" ? "otlp" : "none",
          },
        )
      : undefined;
  const log = pino({ level: "silent" });
  const config: Config = { ...defaultConfig(), port: 0, connectPort: 0, engine: "both", logLevel: "silent", shutdownGraceMs: 1_000 };
  const stops: (() => Promise<unknown>)[] = [];

  const floor = await startFloor();
  stops.push(() => new Promise<void>((resolve) => floor.tryShutdown(() => resolve())));
  const ours = await startTradingCore(config, { log, router: new PaperRouter(), ...(telemetry ? { telemetry } : {}) });
  stops.push(() => ours.stop());
  let redis: RunningTradingCore | undefined;
  let redisNoTrail: string | undefined;
  if (values.redis) {
    // The production Redis composition (tracker store, tick write-behind, Redlock over every node);
    // the paper router stays in memory: it stands in for a broker, which is not on Redis.
    const urls = values.redis.split(",");
    const redisConfig: Config = {
      ...config,
      engine: "grpc-js",
      redisUrl: urls[0]!,
      redisLockUrls: urls,
      redisKeyPrefix: `bench:${process.pid}:`,
      ...(values["protection-flush-ms"] === undefined ? {} : { protectionFlushMs: Number(values["protection-flush-ms"]) }),
    };
    redis = await startTradingCore(redisConfig, { log, router: new PaperRouter(), ...(telemetry ? { telemetry } : {}) });
    stops.push(() => redis!.stop());
    if (!telemetry) {
      const noTrail = await startTradingCore(
        { ...redisConfig, auditTrail: "memory", redisKeyPrefix: `bench:${process.pid}:no-trail:` },
        { log, router: new PaperRouter() },
      );
      stops.push(() => noTrail.stop());
      redisNoTrail = noTrail.address;
    }
  }
  const targets: BenchTargets = {
    floor: `127.0.0.1:${floor.port}`,
    grpcJs: ours.address,
    connect: ours.connectAddress!,
    ...(redis ? { redis: redis.address } : {}),
    ...(redisNoTrail ? { redisNoTrail } : {}),
  };
  process.stdout.write(`${JSON.stringify(targets)}\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.all(stops.map((fn) => fn().catch(() => undefined)));
    await telemetry?.shutdown().catch(() => undefined);
    process.exit(0);
  };
  // Each "cpu" line on stdin is answered with this process's CPU time so far (user + system, µs).
  let pendingInput = "";
  process.stdin.on("data", (chunk: Buffer) => {
    pendingInput += chunk.toString();
    let newline: number;
    while ((newline = pendingInput.indexOf("\n")) >= 0) {
      const command = pendingInput.slice(0, newline).trim();
      pendingInput = pendingInput.slice(newline + 1);
      if (command === "cpu") {
        const usage = process.cpuUsage();
        process.stdout.write(`${JSON.stringify({ cpuMicros: usage.user + usage.system })}\n`);
      } else if (command === "flush") {
        // Answered in order with "cpu" lines: the bench sends one command at a time and waits.
        void (telemetry?.flush() ?? Promise.resolve())
          .catch(() => undefined)
          .then(() => process.stdout.write(`${JSON.stringify({ flushed: true })}\n`));
      }
    }
  });
  process.stdin.on("end", () => void stop());
  process.stdin.on("close", () => void stop());
  process.stdin.resume();
  process.on("SIGTERM", () => void stop());
}

async function startFloor(): Promise<grpc.Server & { port: number }> {
  const server = new grpc.Server();
  const answer = create(HealthCheckResponseSchema, { status: HealthCheckResponse_ServingStatus.SERVING });
  server.addService(grpcJsServiceDefinition(Health), {
    check: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, answer),
    watch: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end(),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return Object.assign(server, { port });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench-server: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
