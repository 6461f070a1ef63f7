import { ROOT_CONTEXT, TraceFlags, trace } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOtlpReceiver, type OtlpReceiver } from "../../../src/loadtest/otlp-receiver.js";
import { decodeTraceRequest } from "../../../src/loadtest/otlp-span-decoder.js";
import { EncodingSpanProcessor, otlpHttpTraceSender, type TraceRequestSender } from "../../../src/telemetry/encoding-span-processor.js";

const LARGE = { maxQueueSize: 10_000, maxExportBatchSize: 5_000, scheduledDelayMillis: 60_000 };

function tracerOn(processor: EncodingSpanProcessor) {
  return new BasicTracerProvider({ spanProcessors: [processor] }).getTracer("test");
}

/** A sender that holds every request until told to answer; what a slow collector looks like. */
function heldSender() {
  const requests: { bytes: Uint8Array; done: (result: ExportResult) => void }[] = [];
  const sender: TraceRequestSender = {
    send: (bytes, done) => void requests.push({ bytes, done }),
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  return { sender, requests, answerAll: () => requests.splice(0).forEach(({ done }) => done({ code: ExportResultCode.SUCCESS })) };
}

/** Answers the held requests until `done` settles; the names of the spans they carried. */
async function answeringUntil(done: Promise<void>, collector: ReturnType<typeof heldSender>): Promise<string[]> {
  let settled = false;
  void done.finally(() => (settled = true));
  const names: string[] = [];
  while (!settled) {
    for (const { bytes } of collector.requests) names.push(...decodeTraceRequest(bytes).map((span) => span.name));
    collector.answerAll();
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await done;
  return names;
}

describe("EncodingSpanProcessor over OTLP/HTTP", () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(() => receiver.close());

  it("sends every ended, sampled span on flush, with its parent, and leaves unsampled ones out", async () => {
    const processor = new EncodingSpanProcessor(otlpHttpTraceSender(`${receiver.endpoint}/v1/traces`), LARGE);
    const tracer = tracerOn(processor);
    const parent = tracer.startSpan("flush.parent");
    tracer.startSpan("flush.child", {}, trace.setSpan(ROOT_CONTEXT, parent)).end();
    parent.end();
    const unsampled = trace.setSpanContext(ROOT_CONTEXT, { traceId: "1".repeat(32), spanId: "2".repeat(16), traceFlags: TraceFlags.NONE });
    tracer.startSpan("flush.unsampled", {}, unsampled).end();
    await processor.forceFlush();
    const names = receiver.spans.filter((span) => span.name.startsWith("flush.")).map((span) => span.name);
    expect(names.sort()).toEqual(["flush.child", "flush.parent"]);
    const child = receiver.spans.find((span) => span.name === "flush.child")!;
    expect(child.parentSpanId).toBe(parent.spanContext().spanId);
    await processor.shutdown();
  });

  it("sends a batch as soon as it is full, without a flush", async () => {
    const processor = new EncodingSpanProcessor(otlpHttpTraceSender(`${receiver.endpoint}/v1/traces`), { ...LARGE, maxExportBatchSize: 10 });
    const tracer = tracerOn(processor);
    for (let i = 0; i < 10; i++) tracer.startSpan(`full.${i}`).end();
    expect(await receiver.waitFor((spans) => spans.filter((span) => span.name.startsWith("full.")).length === 10, 10_000)).toBe(true);
    await processor.shutdown();
  });

  it("sends a partial batch once the delay after its first span has passed", async () => {
    const processor = new EncodingSpanProcessor(otlpHttpTraceSender(`${receiver.endpoint}/v1/traces`), { ...LARGE, scheduledDelayMillis: 50 });
    tracerOn(processor).startSpan("delayed.one").end();
    expect(await receiver.waitFor((spans) => spans.some((span) => span.name === "delayed.one"), 10_000)).toBe(true);
    await processor.shutdown();
  });
});

describe("EncodingSpanProcessor with a slow collector", () => {
  it("holds at most maxQueueSize spans, counts the ones it drops, and sends the rest once the collector answers", async () => {
    const collector = heldSender();
    const processor = new EncodingSpanProcessor(collector.sender, { maxQueueSize: 5, maxExportBatchSize: 3, scheduledDelayMillis: 60_000 });
    const tracer = tracerOn(processor);
    for (let i = 0; i < 8; i++) tracer.startSpan(`slow.${i}`).end();
    expect(processor.droppedSpans).toBe(3);
    const delivered = await answeringUntil(processor.forceFlush(), collector);
    expect(delivered.sort()).toEqual(["slow.0", "slow.1", "slow.2", "slow.3", "slow.4"]);
    tracer.startSpan("slow.after").end();
    expect(processor.droppedSpans).toBe(3);
    expect(await answeringUntil(processor.shutdown(), collector)).toEqual(["slow.after"]);
  });

  it("sends nothing after shutdown", async () => {
    const collector = heldSender();
    const processor = new EncodingSpanProcessor(collector.sender, LARGE);
    await processor.shutdown();
    tracerOn(processor).startSpan("late").end();
    await processor.forceFlush();
    expect(collector.requests).toHaveLength(0);
  });
});

describe("the requests it sends", () => {
  it("carry each span once, grouped by instrumentation scope", async () => {
    const collector = heldSender();
    const processor = new EncodingSpanProcessor(collector.sender, LARGE);
    const provider = new BasicTracerProvider({ spanProcessors: [processor] });
    provider.getTracer("scope.a").startSpan("a.1").end();
    provider.getTracer("scope.b").startSpan("b.1").end();
    provider.getTracer("scope.a").startSpan("a.2").end();
    const flushed = processor.forceFlush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(collector.requests).toHaveLength(1);
    const spans = decodeTraceRequest(collector.requests[0]!.bytes);
    expect(spans.map((span) => span.name)).toEqual(["a.1", "a.2", "b.1"]);
    collector.answerAll();
    await flushed;
  });
});

describe("EncodingSpanProcessor when sending throws", () => {
  it("reports it and keeps going: a flush resolves, and later spans are still sent", async () => {
    const sent: string[] = [];
    let failNext = true;
    const sender: TraceRequestSender = {
      send: (bytes, done) => {
        if (failNext) {
          failNext = false;
          throw new Error("exporter broke");
        }
        sent.push(...decodeTraceRequest(bytes).map((span) => span.name));
        done({ code: ExportResultCode.SUCCESS });
      },
      forceFlush: async () => {},
      shutdown: async () => {},
    };
    const processor = new EncodingSpanProcessor(sender, LARGE);
    const tracer = tracerOn(processor);
    tracer.startSpan("lost").end();
    await expect(processor.forceFlush()).resolves.toBeUndefined();
    tracer.startSpan("after").end();
    await processor.forceFlush();
    expect(sent).toEqual(["after"]);
  });
});

describe("EncodingSpanProcessor with a span it cannot encode", () => {
  it("drops that span without throwing into span.end(), and the batch stays well-formed", async () => {
    const collector = heldSender();
    const processor = new EncodingSpanProcessor(collector.sender, LARGE);
    const tracer = tracerOn(processor);
    tracer.startSpan("before").end();
    const broken = tracer.startSpan("broken");
    // An attribute getter that throws while the span is being written, as no sanitized attribute would.
    Object.defineProperty((broken as unknown as { attributes: object }).attributes, "boom", { enumerable: true, get: () => { throw new Error("unreadable"); } });
    expect(() => broken.end()).not.toThrow();
    tracer.startSpan("after").end();
    expect(processor.droppedSpans).toBe(1);
    expect(await answeringUntil(processor.forceFlush(), collector)).toEqual(["before", "after"]);
  });
});
