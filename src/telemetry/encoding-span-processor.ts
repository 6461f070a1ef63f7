/**
 * A batching span processor that encodes each sampled span to OTLP/protobuf
 * the moment it ends and keeps only the bytes; a batch goes out over OTLP/HTTP
 * when it reaches `maxExportBatchSize` spans or `scheduledDelayMillis` after
 * its first span, whichever comes first.
 *
 * It replaces the SDK's BatchSpanProcessor + OTLPTraceExporter pair with the
 * same behaviour (bounded queue, drops counted, flush and shutdown export
 * everything ended) at a lower cost per span: no span object outlives its
 * `end()`, and there is one encoding pass instead of two (see
 * otlp-span-encoding.ts). Sending (headers from OTEL_EXPORTER_OTLP_* env,
 * compression, timeouts, retries) is the SDK's own OTLP/HTTP delegate.
 */
import { diag, TraceFlags, type Context } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { OTLPExporterBase } from "@opentelemetry/otlp-exporter-base";
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from "@opentelemetry/otlp-exporter-base/node-http";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { type EncodedScopeSpans, writeScopeSpan, writeTraceRequest } from "./otlp-span-encoding.js";
import { ProtobufWriter } from "../wire/protobuf-writer.js";

export interface EncodingSpanProcessorOptions {
  /** Spans held (encoded, in the open batch or being sent) at most; spans ending beyond it are dropped and counted. */
  readonly maxQueueSize: number;
  /** A batch is sent as soon as it holds this many spans. */
  readonly maxExportBatchSize: number;
  /** ... or this long after its first span, ms. */
  readonly scheduledDelayMillis: number;
}

/** Sends one encoded ExportTraceServiceRequest; `done` is told how it went. */
export type TraceRequestSender = {
  send(request: Uint8Array, done: (result: ExportResult) => void): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
};

/** The SDK's OTLP/HTTP sender for `url`, with the request already encoded. */
export function otlpHttpTraceSender(url: string): TraceRequestSender {
  const alreadyEncoded = {
    serializeRequest: (request: Uint8Array) => request,
    deserializeResponse: ProtobufTraceSerializer.deserializeResponse,
  };
  const exporter = new OTLPExporterBase<Uint8Array>(
    createOtlpHttpExportDelegate(convertLegacyHttpOptions({ url }, "TRACES", "v1/traces", { "Content-Type": "application/x-protobuf" }), alreadyEncoded),
  );
  return {
    send: (request, done) => exporter.export(request, done),
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown(),
  };
}

interface Batch {
  /** Per resource, per instrumentation scope (the SDK shares one object per tracer): the encoded spans. */
  readonly groups: Map<Resource, Map<ReadableSpan["instrumentationScope"], ProtobufWriter>>;
  spans: number;
}

export class EncodingSpanProcessor implements SpanProcessor {
  private batch: Batch = { groups: new Map(), spans: 0 };
  private timer: NodeJS.Timeout | undefined;
  private readonly sending = new Set<Promise<void>>();
  /** Spans encoded and not yet sent (or failed). */
  private queued = 0;
  private dropped = 0;
  private droppedSinceSend = 0;
  private stopped = false;

  constructor(
    private readonly sender: TraceRequestSender,
    private readonly options: EncodingSpanProcessorOptions,
  ) {}

  /** Spans dropped so far because the queue was full. */
  get droppedSpans(): number {
    return this.dropped;
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.stopped || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.queued >= this.options.maxQueueSize) {
      this.dropped++;
      this.droppedSinceSend++;
      return;
    }
    const writer = this.writerFor(span);
    const before = writer.length;
    try {
      writeScopeSpan(writer, span);
    } catch (error) {
      // Runs inside span.end(), inside an exit: a span that cannot be encoded is dropped, never thrown.
      writer.truncate(before);
      this.dropped++;
      diag.error(`tracing: span ${span.name} could not be encoded and was dropped`, error);
      return;
    }
    this.batch.spans++;
    this.queued++;
    if (this.batch.spans >= this.options.maxExportBatchSize) this.sendBatch();
    else this.timer ??= setTimeout(() => this.sendBatch(), this.options.scheduledDelayMillis).unref();
  }

  async forceFlush(): Promise<void> {
    this.sendBatch();
    await Promise.all(this.sending);
    await this.sender.forceFlush();
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    await this.forceFlush();
    this.stopped = true;
    await this.sender.shutdown();
  }

  private writerFor(span: ReadableSpan): ProtobufWriter {
    let scopes = this.batch.groups.get(span.resource);
    if (!scopes) this.batch.groups.set(span.resource, (scopes = new Map()));
    let writer = scopes.get(span.instrumentationScope);
    if (!writer) scopes.set(span.instrumentationScope, (writer = new ProtobufWriter(64 * 1024)));
    return writer;
  }

  /** Hands the batch over to be sent, and starts a new one. */
  private sendBatch(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.droppedSinceSend > 0) {
      diag.warn(`tracing: dropped ${this.droppedSinceSend} spans, more than ${this.options.maxQueueSize} were waiting to be sent`);
      this.droppedSinceSend = 0;
    }
    const batch = this.batch;
    if (batch.spans === 0) return;
    this.batch = { groups: new Map(), spans: 0 };
    const sent = this.send(batch).finally(() => {
      this.queued -= batch.spans;
      this.sending.delete(sent);
    });
    this.sending.add(sent);
  }

  /** Never rejects: telemetry that fails is reported, and the sidecar carries on. */
  private async send(batch: Batch): Promise<void> {
    for (const [resource, scopes] of batch.groups) {
      try {
        // Resource detectors may still be running just after start-up; the request needs their attributes.
        if (resource.asyncAttributesPending) await resource.waitForAsyncAttributes?.();
        const encoded: EncodedScopeSpans[] = [...scopes].map(([scope, writer]) => ({ scope, spans: writer.view() }));
        const request = new ProtobufWriter(encoded.reduce((bytes, { spans }) => bytes + spans.length, 1024));
        writeTraceRequest(request, resource, encoded);
        const result = await new Promise<ExportResult>((resolve) => this.sender.send(request.take(), resolve));
        if (result.code !== ExportResultCode.SUCCESS) diag.error(`tracing: sending ${batch.spans} spans failed`, result.error);
      } catch (error) {
        diag.error(`tracing: sending ${batch.spans} spans failed`, error);
      }
    }
  }
}
