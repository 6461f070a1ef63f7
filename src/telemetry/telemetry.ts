/**
 * OpenTelemetry for the sidecar, on @opentelemetry/sdk-node.
 *
 * Guarantees:
 * - Nothing is exported, and no SDK is installed, unless
 *   `OTEL_EXPORTER_OTLP_ENDPOINT` (or `otlpEndpoint`) is set or a caller
 *   passes its own span processors or metric readers (tests). Without an SDK
 *   the tracing middleware is left out, the step spans are the API's no-ops
 *   and the metric instruments are no-ops: almost nothing is spent.
 * - With an endpoint: spans and metrics go over OTLP HTTP/protobuf (each can be
 *   turned off with `OTEL_TRACES_EXPORTER=none` / `OTEL_METRICS_EXPORTER=none`)
 *   (`/v1/traces`, `/v1/metrics`) through the SDK's own exporters, spans in
 *   batches (BatchSpanProcessor), sampled per `OTEL_TRACES_SAMPLER`
 *   (parent-based always-on by default). Every span goes through the SDK's
 *   tracer, so a sampler or span limits apply to all of them.
 * - W3C `traceparent`/`tracestate` and `baggage` are the propagators
 *   (`OTEL_PROPAGATORS` overrides), so a caller's trace continues into ours.
 * - The SDK registers process-wide providers: one Telemetry at a time per
 *   process; `shutdown` unregisters them.
 */
import { context, diag, DiagLogLevel, metrics as metricsApi, propagation, trace } from "@opentelemetry/api";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { type IMetricReader, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { ConfigError } from "../config.js";
import type { ExitLog } from "../exit/ports.js";
import type { CallMiddleware } from "../server/call-middleware.js";
import { tracingMiddleware } from "./tracing-middleware.js";
import { TradingCoreMetrics } from "./trading-core-metrics.js";

export interface TelemetryOptions {
  /** `service.name` of the resource; `OTEL_SERVICE_NAME` wins when set. */
  readonly serviceName?: string;
  /** OTLP/HTTP base URL (e.g. `http://127.0.0.1:4318`); `OTEL_EXPORTER_OTLP_ENDPOINT` when absent. */
  readonly otlpEndpoint?: string;
  /** Span processors of the caller's own (an in-memory exporter in tests), besides OTLP. */
  readonly spanProcessors?: readonly SpanProcessor[];
  /** Metric readers of the caller's own, besides OTLP. */
  readonly metricReaders?: readonly IMetricReader[];
  /** How often metrics are exported over OTLP, ms. */
  readonly metricExportIntervalMs?: number;
}

export interface Telemetry {
  /** True when spans are recorded (and the server opens one per call). */
  readonly tracing: boolean;
  /** True when metrics are collected. */
  readonly metering: boolean;
  readonly metrics: TradingCoreMetrics;
  /** The server-span middleware, when tracing; engines run it first. */
  readonly middleware: readonly CallMiddleware[];
  /** Exports every span ended so far; resolves when the span processors are done, a failed export reported, not thrown (the bench accounts export with it). */
  flush(): Promise<void>;
  /** Sends the SDK's own warnings and errors (a collector refusing spans, spans dropped) to `log`. */
  reportProblemsTo(log: ExitLog): void;
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

const METER_NAME = "tradingcore";

/**
 * `OTEL_TRACES_EXPORTER` / `OTEL_METRICS_EXPORTER`: unset or `otlp` exports
 * the signal, `none` turns it off; anything else is refused by name (this
 * build exports OTLP only).
 */
function exporterWanted(value: string | undefined, name: string): boolean {
  const chosen = (value ?? "").trim().toLowerCase();
  if (chosen === "" || chosen === "otlp") return true;
  if (chosen === "none") return false;
  throw new ConfigError(`${name}=${value}: only "otlp" or "none" are supported`);
}

/**
 * `OTEL_EXPORTER_OTLP_PROTOCOL` and its per-signal variants: this build sends
 * OTLP over HTTP/protobuf only, so `grpc` or `http/json` is refused by name
 * rather than silently sent as something else.
 */
function checkProtocol(env: NodeJS.ProcessEnv, signal: "TRACES" | "METRICS"): void {
  for (const name of [`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`, "OTEL_EXPORTER_OTLP_PROTOCOL"]) {
    const value = env[name];
    if (value === undefined || value.trim() === "") continue;
    if (value.trim().toLowerCase() !== "http/protobuf") throw new ConfigError(`${name}=${value}: only "http/protobuf" is supported`);
    return;
  }
}

/** Telemetry that records nothing: what runs when nothing asked for it. */
export function disabledTelemetry(): Telemetry {
  return {
    tracing: false,
    metering: false,
    metrics: new TradingCoreMetrics(metricsApi.getMeter(METER_NAME)),
    middleware: [],
    flush: async () => {},
    reportProblemsTo: () => {},
    shutdown: async () => {},
  };
}

export function startTelemetry(options: TelemetryOptions = {}, env: NodeJS.ProcessEnv = process.env): Telemetry {
  const endpoint = (options.otlpEndpoint ?? env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "").trim();
  const spanProcessors = [...(options.spanProcessors ?? [])];
  const metricReaders = [...(options.metricReaders ?? [])];
  if (endpoint !== "") {
    const base = endpoint.replace(/\/+$/, "");
    if (exporterWanted(env.OTEL_TRACES_EXPORTER, "OTEL_TRACES_EXPORTER")) {
      checkProtocol(env, "TRACES");
      const tracesUrl = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || `${base}/v1/traces`;
      // A larger queue and batches than the SDK's defaults (2,048 / 512 / 5 s): a burst of exits is
      // nine spans each, and fewer, larger requests cost the server less CPU per span.
      spanProcessors.push(
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({ url: tracesUrl }),
          maxQueueSize: 65_536,
          maxExportBatchSize: 4_096,
          scheduledDelayMillis: 500,
        }),
      );
    }
    if (exporterWanted(env.OTEL_METRICS_EXPORTER, "OTEL_METRICS_EXPORTER")) {
      checkProtocol(env, "METRICS");
      const metricsUrl = env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT || `${base}/v1/metrics`;
      metricReaders.push(
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: metricsUrl }),
          exportIntervalMillis: options.metricExportIntervalMs ?? 10_000,
        }),
      );
    }
  }
  if (spanProcessors.length === 0 && metricReaders.length === 0) return disabledTelemetry();

  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? options.serviceName ?? "tradingcore",
    spanProcessors,
    metricReaders,
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  const tracing = spanProcessors.length > 0;
  return {
    tracing,
    metering: metricReaders.length > 0,
    metrics: new TradingCoreMetrics(metricsApi.getMeter(METER_NAME)),
    middleware: tracing ? [tracingMiddleware()] : [],
    async flush() {
      // A refused export is a problem to report (reportProblemsTo), not a reason to fail the caller.
      await Promise.all(spanProcessors.map((processor) => processor.forceFlush().catch((error: unknown) => diag.error("exporting spans failed", error))));
    },
    reportProblemsTo(log) {
      const report = (level: "warn" | "error") => (message: string, ...details: unknown[]) => log[level]({ telemetry: details.map(String) }, message);
      const quiet = () => {};
      diag.setLogger({ error: report("error"), warn: report("warn"), info: quiet, debug: quiet, verbose: quiet }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    },
    async shutdown() {
      try {
        await sdk.shutdown();
      } finally {
        // Unregister the process-wide providers, so that telemetry can be started again in this process.
        trace.disable();
        metricsApi.disable();
        propagation.disable();
        context.disable();
        diag.disable();
      }
    },
  };
}
