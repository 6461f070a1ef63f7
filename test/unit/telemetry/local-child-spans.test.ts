import { type Context, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace, TraceFlags } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, ParentBasedSampler, AlwaysOffSampler, type ReadableSpan, SimpleSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CHILD_SPANS, type ChildSpanStarter, inSpan } from "../../../src/exit/exit-tracing.js";
import { localChildSpansFor } from "../../../src/telemetry/local-child-spans.js";
import { PooledIdGenerator } from "../../../src/telemetry/pooled-id-generator.js";

/** What an exporter sees of a span, with ids replaced by their relation to the parent. */
function exported(span: ReadableSpan, parent: Span) {
  return {
    name: span.name,
    kind: span.kind,
    traceId: span.spanContext().traceId === parent.spanContext().traceId,
    traceFlags: span.spanContext().traceFlags,
    traceState: span.spanContext().traceState?.serialize(),
    parentSpanId: span.parentSpanContext?.spanId === parent.spanContext().spanId,
    scope: span.instrumentationScope.name,
    resource: span.resource === (parent as unknown as ReadableSpan).resource,
    attributes: span.attributes,
    status: span.status,
    events: span.events.map((event) => ({ name: event.name, attributes: event.attributes })),
    links: span.links,
    ended: span.ended,
    droppedAttributesCount: span.droppedAttributesCount,
    validDuration: span.duration[0] >= 0 && span.duration[1] >= 0,
  };
}

const FAILURE = new TypeError("connection reset");

describe("child spans recorded without the SDK tracer", () => {
  let exporter: InMemorySpanExporter;
  let processor: SpanProcessor;
  let provider: BasicTracerProvider;
  let starter: ChildSpanStarter;
  let serverSpan: Span;
  let parent: Context;

  beforeEach(() => {
    exporter = new InMemorySpanExporter();
    processor = new SimpleSpanProcessor(exporter);
    const ids = new PooledIdGenerator();
    provider = new BasicTracerProvider({ spanProcessors: [processor], idGenerator: ids });
    starter = localChildSpansFor([processor], ids, {})!;
    serverSpan = provider.getTracer("tradingcore.server").startSpan("ExecuteExit", { kind: SpanKind.SERVER });
    parent = trace.setSpan(ROOT_CONTEXT, serverSpan);
  });
  afterEach(() => provider.shutdown());

  /** Runs one succeeding and one failing step the way exit-tracing.ts does, through `start`. */
  async function steps(start: (name: string, attributes: Record<string, string>) => Span): Promise<ReadableSpan[]> {
    exporter.reset();
    const ok = start("exit.ltp.lookup", { "ltp.source": "memory" });
    ok.setAttribute("ltp.age_ms", 12);
    ok.setAttribute("not.an.attribute.value", { nested: true } as never);
    ok.end();
    const failing = start("exit.router.call", { "router.name": "paper" });
    failing.recordException(FAILURE);
    failing.setStatus({ code: SpanStatusCode.ERROR, message: "connection reset" });
    failing.end();
    await processor.forceFlush();
    return exporter.getFinishedSpans();
  }

  it("records the same span an SDK tracer records for a child of a sampled local span", async () => {
    const sdkTracer = provider.getTracer("tradingcore.exit");
    const viaSdk = await steps((name, attributes) => sdkTracer.startSpan(name, { attributes }, parent));
    const viaStarter = await steps((name, attributes) => starter.startChild("tradingcore.exit", name, attributes, parent)!);

    expect(viaStarter.map((span) => exported(span, serverSpan))).toEqual(viaSdk.map((span) => exported(span, serverSpan)));
    expect(viaStarter[1]!.events[0]!.attributes).toMatchObject({ "exception.type": "TypeError", "exception.message": "connection reset" });
    expect(viaStarter[0]!.spanContext().spanId).not.toBe(viaStarter[1]!.spanContext().spanId);
  });

  it("is what exit-tracing uses when the trace parent carries it, and parents grandchildren on its spans", async () => {
    await inSpan(parent.setValue(CHILD_SPANS, starter), "exit.lock.acquire", async (span) => {
      const child = starter.startChild("tradingcore.exit", "inner", undefined, trace.setSpan(parent, span))!;
      child.end();
    });
    await processor.forceFlush();
    const [inner, acquire] = exporter.getFinishedSpans();
    expect(acquire!.name).toBe("exit.lock.acquire");
    expect(acquire!.parentSpanContext?.spanId).toBe(serverSpan.spanContext().spanId);
    expect(inner!.parentSpanContext?.spanId).toBe(acquire!.spanContext().spanId);
    expect(inner!.spanContext().traceId).toBe(serverSpan.spanContext().traceId);
  });

  it("starts at the wall clock's reading and ends by the monotonic clock, as SDK spans do", async () => {
    const before = Date.now();
    const span = starter.startChild("tradingcore.exit", "exit.validate", undefined, parent)!;
    await new Promise((resolve) => setTimeout(resolve, 5));
    span.end();
    const [recorded] = exporter.getFinishedSpans();
    const startMs = recorded!.startTime[0] * 1000 + recorded!.startTime[1] / 1e6;
    expect(startMs).toBeGreaterThanOrEqual(before);
    expect(recorded!.duration[0] * 1000 + recorded!.duration[1] / 1e6).toBeGreaterThanOrEqual(4);
  });

  it("ends once: a second end() is ignored and the processors see the span once", () => {
    const span = starter.startChild("tradingcore.exit", "exit.validate", undefined, parent)!;
    span.end();
    span.end();
    span.setAttribute("late", "ignored");
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    expect(exporter.getFinishedSpans()[0]!.attributes).not.toHaveProperty("late");
  });

  it("keeps the SDK's default limit of 128 attributes and counts the ones it drops", () => {
    const span = starter.startChild("tradingcore.exit", "exit.validate", undefined, parent)!;
    for (let i = 0; i < 130; i++) span.setAttribute(`a${i}`, i);
    span.end();
    const [recorded] = exporter.getFinishedSpans();
    expect(Object.keys(recorded!.attributes)).toHaveLength(128);
    expect(recorded!.droppedAttributesCount).toBe(2);
  });

  it("leaves to the SDK a parent that is absent, remote, unsampled or already ended", () => {
    expect(starter.startChild("tradingcore.exit", "x", undefined, ROOT_CONTEXT)).toBeUndefined();
    const remote = trace.setSpanContext(ROOT_CONTEXT, { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: TraceFlags.SAMPLED, isRemote: true });
    expect(starter.startChild("tradingcore.exit", "x", undefined, remote)).toBeUndefined();
    const unsampledProvider = new BasicTracerProvider({ sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }) });
    const unsampled = unsampledProvider.getTracer("t").startSpan("ExecuteExit");
    expect(starter.startChild("tradingcore.exit", "x", undefined, trace.setSpan(ROOT_CONTEXT, unsampled))).toBeUndefined();
    serverSpan.end();
    expect(starter.startChild("tradingcore.exit", "x", undefined, parent)).toBeUndefined();
  });

  it("is turned off when the environment asks the SDK for a sampler that is not parent-based, or for span limits", () => {
    const ids = new PooledIdGenerator();
    expect(localChildSpansFor([processor], ids, { OTEL_TRACES_SAMPLER: "parentbased_traceidratio" })).toBeDefined();
    expect(localChildSpansFor([processor], ids, { OTEL_TRACES_SAMPLER: "traceidratio" })).toBeUndefined();
    expect(localChildSpansFor([processor], ids, { OTEL_TRACES_SAMPLER: "always_on" })).toBeUndefined();
    expect(localChildSpansFor([processor], ids, { OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: "8" })).toBeUndefined();
    expect(localChildSpansFor([processor], ids, { OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: "64" })).toBeUndefined();
  });
});
