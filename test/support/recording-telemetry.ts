/**
 * Telemetry that keeps everything in memory: spans in an InMemorySpanExporter
 * (exported as each span ends), metrics collected on demand.
 */
import { MetricReader, type DataPoint, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type Sampler } from "@opentelemetry/sdk-trace";
import { startTelemetry, type Telemetry } from "../../src/telemetry/telemetry.js";

class OnDemandMetricReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface RecordingTelemetry {
  readonly telemetry: Telemetry;
  readonly spans: InMemorySpanExporter;
  /**
   * Waits until every ended span has reached the exporter. Needed because the
   * SDK holds spans back until the resource's asynchronously detected
   * attributes (host, process) are known, which under load can be after the
   * call has answered.
   */
  flush(): Promise<void>;
  /** Spans of one trace. */
  spansOf(traceId: string): ReadableSpan[];
  /** The data points of one metric, collected now. */
  points(metricName: string): Promise<DataPoint<unknown>[]>;
  shutdown(): Promise<void>;
}

export function startRecordingTelemetry(options: { readonly traceProbes?: boolean; readonly sampler?: Sampler } = {}): RecordingTelemetry {
  const spans = new InMemorySpanExporter();
  const reader = new OnDemandMetricReader();
  const processor = new SimpleSpanProcessor({ exporter: spans });
  const telemetry = startTelemetry({ spanProcessors: [processor], metricReaders: [reader], ...options }, {});
  return {
    telemetry,
    spans,
    flush: () => processor.forceFlush(),
    spansOf: (traceId) => spans.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId),
    async points(metricName) {
      const { resourceMetrics } = await reader.collect();
      return dataPointsOf(resourceMetrics, metricName);
    },
    shutdown: () => telemetry.shutdown(),
  };
}

function dataPointsOf(resourceMetrics: ResourceMetrics, name: string): DataPoint<unknown>[] {
  return resourceMetrics.scopeMetrics.flatMap((scope) =>
    scope.metrics.filter((metric) => metric.descriptor.name === name).flatMap((metric) => metric.dataPoints as DataPoint<unknown>[]),
  );
}
