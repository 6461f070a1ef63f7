import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from "@opentelemetry/api";
import { TraceState } from "@opentelemetry/core";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { decodeTraceRequest } from "../../../src/loadtest/otlp-span-decoder.js";
import { writeScopeSpan, writeTraceRequest } from "../../../src/telemetry/otlp-span-encoding.js";
import { ProtobufWriter } from "../../../src/wire/protobuf-writer.js";

/** Spans of every shape the sidecar can produce, and some it does not (links, arrays, long strings), from a real SDK tracer. */
function variedSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": "tradingcore", "host.name": "box", "process.pid": 4242 }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const server = provider.getTracer("tradingcore.server");
  const exit = provider.getTracer("tradingcore.exit", "1.2.3");
  const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: "b7ad6b7169203331",
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState("vendor=value,other=1"),
  });
  const call = server.startSpan("ExecuteExit", { kind: SpanKind.SERVER, attributes: { "rpc.system": "grpc", "rpc.grpc.status_code": 0 } }, remoteParent);
  const parent = trace.setSpan(ROOT_CONTEXT, call);
  const step = exit.startSpan("exit.lock.acquire", { attributes: { "lock.attempts": 1, "lock.result": "acquired", "ltp.stale": false } }, parent);
  step.setAttributes({ "ltp.age_ms": 12.5, "big.int": 2 ** 40, negative: -7, tags: ["a", "b", "ü"], short: "naïve", counts: [1, 2, 3], text: "é—ünïcödé ".repeat(30) });
  step.end();
  const failed = exit.startSpan("exit.router.call", { kind: SpanKind.CLIENT, links: [{ context: call.spanContext(), attributes: { why: "retry" } }] }, parent);
  failed.recordException(new Error("broker said no"));
  failed.setStatus({ code: SpanStatusCode.ERROR, message: "broker said no" });
  failed.addEvent("retry", { attempt: 2 });
  failed.end();
  const ok = exit.startSpan("exit.tracker.update", {}, parent);
  ok.setStatus({ code: SpanStatusCode.OK });
  ok.end();
  call.setAttribute("order_no", "ORD-1");
  call.end();
  const root = server.startSpan("GetLtp", { kind: SpanKind.SERVER });
  root.end();
  return exporter.getFinishedSpans();
}

function encodedByUs(spans: readonly ReadableSpan[]): Uint8Array {
  const scopes = new Map<ReadableSpan["instrumentationScope"], ProtobufWriter>();
  for (const span of spans) {
    let writer = scopes.get(span.instrumentationScope);
    if (!writer) scopes.set(span.instrumentationScope, (writer = new ProtobufWriter(16)));
    writeScopeSpan(writer, span);
  }
  const request = new ProtobufWriter(16);
  writeTraceRequest(request, spans[0]!.resource, [...scopes].map(([scope, writer]) => ({ scope, spans: writer.view() })));
  return request.take();
}

describe("OTLP span encoding", () => {
  it("writes the same bytes as the SDK's own serializer, for spans of every shape", () => {
    const spans = variedSpans();
    const ours = encodedByUs(spans);
    const theirs = ProtobufTraceSerializer.serializeRequest(spans)!;
    expect(Buffer.from(ours).toString("hex")).toBe(Buffer.from(theirs).toString("hex"));
  });

  it("decodes back to the spans: ids, parents, names, kinds, exact times and attributes", () => {
    const spans = variedSpans();
    const decoded = decodeTraceRequest(encodedByUs(spans));
    expect(decoded.map((span) => span.name).sort()).toEqual(spans.map((span) => span.name).sort());
    for (const span of spans) {
      const back = decoded.find((candidate) => candidate.spanId === span.spanContext().spanId)!;
      expect(back.traceId).toBe(span.spanContext().traceId);
      expect(back.parentSpanId).toBe(span.parentSpanContext?.spanId ?? "");
      expect(back.kind).toBe(span.kind + 1);
      expect(back.startNs).toBe(BigInt(span.startTime[0]) * 1_000_000_000n + BigInt(span.startTime[1]));
      expect(back.endNs).toBe(BigInt(span.endTime[0]) * 1_000_000_000n + BigInt(span.endTime[1]));
      expect(back.serviceName).toBe("tradingcore");
      expect(back.statusCode).toBe(span.status.code);
    }
    const step = decoded.find((span) => span.name === "exit.lock.acquire")!;
    expect(step.attributes).toMatchObject({ "lock.attempts": 1, "lock.result": "acquired", "ltp.stale": false, "ltp.age_ms": 12.5, "big.int": 2 ** 40, negative: -7 });
  });
});

describe("ProtobufWriter", () => {
  it("writes HrTimes as exact fixed64 nanoseconds, across the 2^53 boundary", () => {
    for (const [seconds, nanos] of [[0, 0], [1, 999_999_999], [1_764_000_000, 123_456_789], [4_294_967_295, 999_999_999], [65_535, 1], [65_536, 0]] as const) {
      const bytes = new ProtobufWriter(1).hrTime(seconds, nanos).take();
      expect(bytes.readBigUInt64LE(0), `${seconds}.${nanos}`).toBe(BigInt(seconds) * 1_000_000_000n + BigInt(nanos));
    }
  });

  it("writes a nested message of any length with its length in front", () => {
    for (const size of [0, 1, 127, 128, 16_383, 16_384, 70_000]) {
      const writer = new ProtobufWriter(8);
      const mark = writer.beginMessage();
      writer.raw(new Uint8Array(size).fill(7));
      writer.endMessage(mark);
      const bytes = writer.take();
      let length = 0;
      let shift = 1;
      let at = 0;
      for (;;) {
        const byte = bytes[at++]!;
        length += (byte & 0x7f) * shift;
        shift *= 128;
        if (byte < 0x80) break;
      }
      expect(length).toBe(size);
      expect(bytes.length - at).toBe(size);
      expect(bytes.subarray(at).every((byte) => byte === 7)).toBe(true);
    }
  });
});
