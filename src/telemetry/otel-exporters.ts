/**
 * The span processors and metric readers the standard `OTEL_*` variables ask
 * for, read as the OpenTelemetry specification defines them (SDK environment
 * variables, OTLP exporter configuration):
 *
 * - `OTEL_TRACES_EXPORTER` / `OTEL_METRICS_EXPORTER`: comma-separated;
 *   `otlp` (the default), `console`, `none`, and `prometheus` for metrics.
 *   Anything else is refused by name rather than ignored.
 * - OTLP goes where `OTEL_EXPORTER_OTLP_{TRACES,METRICS}_ENDPOINT` says (used
 *   as is), else `OTEL_EXPORTER_OTLP_ENDPOINT` (`/v1/traces`, `/v1/metrics`
 *   appended for HTTP), over `OTEL_EXPORTER_OTLP_{SIGNAL_}PROTOCOL`: `grpc`,
 *   `http/protobuf` (the default) or `http/json`.
 * - Unlike an SDK's default, a signal whose exporter is left at `otlp` by
 *   default stays off until an endpoint names where to send it: a sidecar
 *   started without telemetry settings must not try to reach localhost:4318.
 *   Naming `otlp` explicitly uses the specification's default endpoint.
 * - `prometheus`: a pull endpoint on `OTEL_EXPORTER_PROMETHEUS_HOST`
 *   (default `localhost`) and `OTEL_EXPORTER_PROMETHEUS_PORT` (default 9464).
 */
import { OTLPMetricExporter as GrpcMetricExporter } from "@opentelemetry/exporter-metrics-otlp-grpc";
import { OTLPMetricExporter as JsonMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter as ProtoMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { OTLPTraceExporter as GrpcTraceExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { OTLPTraceExporter as JsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import {
  ConsoleMetricExporter,
  type IMetricReader,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from "@opentelemetry/sdk-metrics";
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace";
import { ConfigError } from "../config.js";

type Protocol = "grpc" | "http/protobuf" | "http/json";
type Signal = "TRACES" | "METRICS";

const PATHS: Record<Signal, string> = { TRACES: "/v1/traces", METRICS: "/v1/metrics" };

export interface ExporterOptions {
  /** Base OTLP endpoint that stands in for `OTEL_EXPORTER_OTLP_ENDPOINT` (the bench's sink). */
  readonly otlpEndpoint?: string;
  /** How often metrics are pushed, ms. */
  readonly metricExportIntervalMs?: number;
}

export interface Exporters {
  readonly spanProcessors: SpanProcessor[];
  readonly metricReaders: IMetricReader[];
  /** Where each signal goes, without credentials: for the start-up log. */
  readonly destinations: string[];
}

export function exportersFromEnv(options: ExporterOptions, env: NodeJS.ProcessEnv): Exporters {
  const exporters: Exporters = { spanProcessors: [], metricReaders: [], destinations: [] };
  for (const name of exporterNames(env, "OTEL_TRACES_EXPORTER", ["otlp", "console", "none"])) {
    if (name === "console") {
      exporters.spanProcessors.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
      exporters.destinations.push("traces: console");
      continue;
    }
    const target = otlpTarget(options, env, "TRACES");
    if (!target) continue;
    const batches = batchSettings(env);
    exporters.spanProcessors.push(new BatchSpanProcessor({ exporter: traceExporter(target, exportsInFlight(batches)), ...batches }));
    exporters.destinations.push(`traces: otlp ${target.protocol} ${target.url}`);
  }
  const intervalMs = options.metricExportIntervalMs ?? 10_000;
  for (const name of exporterNames(env, "OTEL_METRICS_EXPORTER", ["otlp", "prometheus", "console", "none"])) {
    if (name === "prometheus") {
      const host = env.OTEL_EXPORTER_PROMETHEUS_HOST?.trim() || "localhost";
      const port = prometheusPort(env.OTEL_EXPORTER_PROMETHEUS_PORT);
      exporters.metricReaders.push(new PrometheusExporter({ host, port }));
      exporters.destinations.push(`metrics: prometheus http://${host}:${port}/metrics`);
      continue;
    }
    if (name === "console") {
      exporters.metricReaders.push(
        new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter(), exportIntervalMillis: intervalMs }),
      );
      exporters.destinations.push("metrics: console");
      continue;
    }
    const target = otlpTarget(options, env, "METRICS");
    if (!target) continue;
    exporters.metricReaders.push(new PeriodicExportingMetricReader({ exporter: metricExporter(target), exportIntervalMillis: intervalMs }));
    exporters.destinations.push(`metrics: otlp ${target.protocol} ${target.url}`);
  }
  return exporters;
}

/**
 * The batch span processor's settings: the specification's `OTEL_BSP_*` variables, else ours, a
 * larger queue and batches and a shorter delay than the SDK's defaults (2,048 / 512 / 5 s), as a
 * burst of exits is six spans each (smaller batches measured no cheaper: README, Measuring).
 */
function batchSettings(env: NodeJS.ProcessEnv) {
  const maxQueueSize = bspSetting(env, "OTEL_BSP_MAX_QUEUE_SIZE", 65_536);
  return {
    maxQueueSize,
    // The SDK would warn and shrink a batch larger than the queue; asking for that is not an error.
    maxExportBatchSize: Math.min(maxQueueSize, bspSetting(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 4_096)),
    scheduledDelayMillis: bspSetting(env, "OTEL_BSP_SCHEDULE_DELAY", 500),
    exportTimeoutMillis: bspSetting(env, "OTEL_BSP_EXPORT_TIMEOUT", 30_000),
  };
}

/** The SDK's own limit on an OTLP exporter's exports in flight. */
const SDK_EXPORTS_IN_FLIGHT = 30;

/**
 * How many exports an OTLP exporter must accept at once: a flush (and shutdown) exports every
 * batch of the queue together, and the exporter refuses, and drops, those beyond its limit
 * (30 by default: a full queue of 65,536 spans in batches of 512 would lose three quarters).
 */
function exportsInFlight(batches: { readonly maxQueueSize: number; readonly maxExportBatchSize: number }): number {
  return Math.max(SDK_EXPORTS_IN_FLIGHT, Math.ceil(batches.maxQueueSize / batches.maxExportBatchSize));
}

function bspSetting(env: NodeJS.ProcessEnv, variable: string, fallback: number): number {
  const raw = env[variable];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw.trim());
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(`${variable}=${raw}: a whole number, 1 or more`);
  return value;
}

/** The exporters a variable names, `none` dropped; `otlp` when it is unset. */
function exporterNames(env: NodeJS.ProcessEnv, variable: string, supported: readonly string[]): string[] {
  const raw = env[variable];
  const names = (raw ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
  for (const name of names) {
    if (!supported.includes(name))
      throw new ConfigError(`${variable}=${raw}: "${name}" is not supported (use ${supported.map((s) => `"${s}"`).join(", ")})`);
  }
  if (names.length === 0) return ["otlp"];
  if (names.includes("none")) {
    if (names.length > 1) throw new ConfigError(`${variable}=${raw}: "none" cannot be combined with other exporters`);
    return [];
  }
  return [...new Set(names)];
}

interface OtlpTarget {
  readonly protocol: Protocol;
  readonly url: string;
}

/** Where one signal's OTLP goes, or undefined when nothing asks for it. */
function otlpTarget(options: ExporterOptions, env: NodeJS.ProcessEnv, signal: Signal): OtlpTarget | undefined {
  const protocol = protocolOf(env, signal);
  const own = env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`]?.trim();
  if (own) return { protocol, url: own };
  const base = (options.otlpEndpoint ?? env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "").trim().replace(/\/+$/, "");
  const explicit = (env[`OTEL_${signal}_EXPORTER`] ?? "").trim() !== "";
  if (base === "" && !explicit) return undefined;
  const origin = base || (protocol === "grpc" ? "http://localhost:4317" : "http://localhost:4318");
  return { protocol, url: protocol === "grpc" ? origin : `${origin}${PATHS[signal]}` };
}

function protocolOf(env: NodeJS.ProcessEnv, signal: Signal): Protocol {
  for (const variable of [`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`, "OTEL_EXPORTER_OTLP_PROTOCOL"]) {
    const raw = env[variable];
    const value = raw?.trim().toLowerCase();
    if (!value) continue;
    if (value === "grpc" || value === "http/protobuf" || value === "http/json") return value;
    throw new ConfigError(`${variable}=${raw}: use "grpc", "http/protobuf" or "http/json"`);
  }
  return "http/protobuf";
}

function traceExporter({ protocol, url }: OtlpTarget, concurrencyLimit: number): SpanExporter {
  if (protocol === "grpc") return new GrpcTraceExporter({ url, concurrencyLimit });
  if (protocol === "http/json") return new JsonTraceExporter({ url, concurrencyLimit });
  return new ProtoTraceExporter({ url, concurrencyLimit });
}

function metricExporter({ protocol, url }: OtlpTarget): PushMetricExporter {
  if (protocol === "grpc") return new GrpcMetricExporter({ url });
  if (protocol === "http/json") return new JsonMetricExporter({ url });
  return new ProtoMetricExporter({ url });
}

function prometheusPort(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return 9464;
  const port = Number(raw.trim());
  // Port 0 is refused: the exporter would silently listen on its default instead.
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new ConfigError(`OTEL_EXPORTER_PROMETHEUS_PORT=${raw}: a port from 1 to 65535`);
  return port;
}
