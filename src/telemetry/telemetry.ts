/**
 * OpenTelemetry for the sidecar, on @opentelemetry/sdk-node.
 *
 * Guarantees:
 * - Nothing is exported, and no SDK is installed, unless the `OTEL_*`
 *   variables ask for an exporter (otel-exporters.ts: an OTLP endpoint,
 *   `console`, `prometheus`) or a caller passes its own span processors or
 *   metric readers (tests). Without an SDK the middleware is left out, the
 *   step spans are the API's no-ops and the metric instruments are no-ops:
 *   almost nothing is spent.
 * - Spans go in batches (BatchSpanProcessor) through the SDK's own exporters,
 *   sampled per `OTEL_TRACES_SAMPLER` (parent-based always-on by default).
 *   Every span goes through the SDK's tracer, so a sampler or span limits
 *   apply to all of them. Idle reconciler passes are not exported.
 * - W3C `traceparent`/`tracestate` and `baggage` are the propagators
 *   (`OTEL_PROPAGATORS` overrides), so a caller's trace continues into ours.
 * - The SDK registers process-wide providers: one Telemetry at a time per
 *   process; `shutdown` unregisters them.
 */
import { context, diag, DiagLogLevel, metrics as metricsApi, propagation, trace } from "@opentelemetry/api";
import type { IMetricReader } from "@opentelemetry/sdk-metrics";
import { NodeSDK } from "@opentelemetry/sdk-node";
import type { Sampler, SpanProcessor } from "@opentelemetry/sdk-trace";
import type { ExitLog } from "../exit/ports.js";
import type { CallMiddleware } from "../rpc/call-middleware.js";
import { IdlePassFilter } from "./idle-pass-filter.js";
import { exportersFromEnv } from "./otel-exporters.js";
import { rpcServerMetricsMiddleware } from "./rpc-server-metrics.js";
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
  /** Trace health checks and reflection calls too (off: they get no span). */
  readonly traceProbes?: boolean;
  /** A sampler of the caller's own (tests), instead of the one `OTEL_TRACES_SAMPLER` names. */
  readonly sampler?: Sampler;
}

export interface Telemetry {
  /** True when spans are recorded (and the server opens one per call). */
  readonly tracing: boolean;
  /** True when metrics are collected. */
  readonly metering: boolean;
  readonly metrics: TradingCoreMetrics;
  /** The `rpc.server.duration` and server-span middleware, when metering / tracing; engines run them first. */
  readonly middleware: readonly CallMiddleware[];
  /** Where spans and metrics go (`traces: otlp grpc http://…`), without credentials: for the start-up log. */
  readonly destinations: readonly string[];
  /** Exports every span ended so far; resolves when the span processors are done, a failed export reported, not thrown (the bench accounts export with it). */
  flush(): Promise<void>;
  /** Sends the SDK's own warnings and errors (a collector refusing spans, spans dropped) to `log`. */
  reportProblemsTo(log: ExitLog): void;
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

const METER_NAME = "tradingcore";

/** Telemetry that records nothing: what runs when nothing asked for it. */
export function disabledTelemetry(): Telemetry {
  return {
    tracing: false,
    metering: false,
    metrics: new TradingCoreMetrics(metricsApi.getMeter(METER_NAME)),
    middleware: [],
    destinations: [],
    flush: async () => {},
    reportProblemsTo: () => {},
    shutdown: async () => {},
  };
}

export function startTelemetry(options: TelemetryOptions = {}, env: NodeJS.ProcessEnv = process.env): Telemetry {
  // The specification's switch for the whole SDK.
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return disabledTelemetry();
  const exporters = exportersFromEnv(options, env);
  const spanProcessors = [...(options.spanProcessors ?? []), ...exporters.spanProcessors];
  const metricReaders = [...(options.metricReaders ?? []), ...exporters.metricReaders];
  if (spanProcessors.length === 0 && metricReaders.length === 0) return disabledTelemetry();

  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? options.serviceName ?? "tradingcore",
    // One processor in front of the others: idle reconciler passes are dropped before any exporter sees them.
    spanProcessors: spanProcessors.length > 0 ? [new IdlePassFilter(spanProcessors)] : [],
    metricReaders,
    ...(options.sampler ? { sampler: options.sampler } : {}),
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  const tracing = spanProcessors.length > 0;
  const metering = metricReaders.length > 0;
  const meter = metricsApi.getMeter(METER_NAME);
  return {
    tracing,
    metering,
    metrics: new TradingCoreMetrics(meter),
    // The metric outermost, so that its duration includes the span's work, as a client sees it.
    middleware: [
      ...(metering ? [rpcServerMetricsMiddleware(meter)] : []),
      ...(tracing ? [tracingMiddleware({ traceProbes: options.traceProbes ?? false })] : []),
    ],
    destinations: exporters.destinations,
    async flush() {
      // A refused export is a problem to report (reportProblemsTo), not a reason to fail the caller.
      await Promise.all(
        spanProcessors.map((processor) => processor.forceFlush().catch((error: unknown) => diag.error("exporting spans failed", error))),
      );
    },
    reportProblemsTo(log) {
      const report =
        (level: "warn" | "error") =>
        (message: string, ...details: unknown[]) =>
          log[level]({ telemetry: details.map(String) }, message);
      const quiet = () => {};
      diag.setLogger(
        { error: report("error"), warn: report("warn"), info: quiet, debug: quiet, verbose: quiet },
        { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
      );
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
