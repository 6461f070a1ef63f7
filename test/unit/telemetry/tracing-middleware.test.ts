import { context, trace } from "@opentelemetry/api";
import { createContextValues } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallInfo } from "../../../src/rpc/call-middleware.js";
import { callTraceOf } from "../../../src/rpc/call-trace.js";
import { type RecordingTelemetry, startRecordingTelemetry } from "../../support/recording-telemetry.js";

function call(): CallInfo {
  return {
    service: "tradingcore.v1.TickService",
    method: "GetLtp",
    kind: "unary",
    engine: "grpc-js",
    protocol: "grpc",
    headers: { get: () => undefined },
    peer: "127.0.0.1:1",
    signal: new AbortController().signal,
    values: createContextValues(),
  };
}

describe("the tracing middleware with an SDK installed", () => {
  let recording: RecordingTelemetry;
  beforeAll(() => {
    recording = startRecordingTelemetry();
  });
  afterAll(() => recording.shutdown());

  // A context manager that keeps no active context (ROOT always) would orphan these spans into traces of their own.
  it("makes the server span the active context while the handler runs, across awaits", async () => {
    const middleware = recording.telemetry.middleware.at(-1);
    const info = call();
    let handed: string | undefined;
    await middleware!(info, async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      trace.getTracer("probe").startActiveSpan("inner.active", (span) => span.end());
      trace.getTracer("probe").startSpan("inner.started").end();
      handed = trace.getSpan(callTraceOf(info.values))?.spanContext().spanId;
    });
    await recording.flush();
    const spans = recording.spans.getFinishedSpans();
    const server = spans.find((span) => span.name === "GetLtp")!;
    expect(handed).toBe(server.spanContext().spanId);
    for (const name of ["inner.active", "inner.started"]) {
      const inner = spans.find((span) => span.name === name)!;
      expect(inner.parentSpanContext?.spanId, name).toBe(server.spanContext().spanId);
      expect(inner.spanContext().traceId, name).toBe(server.spanContext().traceId);
    }
  });

  it("leaves no active context behind once the call is done", async () => {
    const middleware = recording.telemetry.middleware.at(-1);
    await middleware!(call(), async () => {});
    expect(trace.getSpan(context.active())).toBeUndefined();
  });
});
