import { ROOT_CONTEXT, TraceFlags, trace } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inParentSpan, inSpan } from "../../../src/exit/exit-tracing.js";
import { type RecordingTelemetry, startRecordingTelemetry } from "../../support/recording-telemetry.js";

describe("exit step spans with an SDK installed", () => {
  let recording: RecordingTelemetry;
  beforeAll(() => {
    recording = startRecordingTelemetry();
  });
  afterAll(() => recording.shutdown());

  it("under a parent the sampler left out, start no span of their own and export nothing", async () => {
    const unsampled = trace.wrapSpanContext({
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: TraceFlags.NONE,
    });
    const parent = trace.setSpan(ROOT_CONTEXT, unsampled);
    recording.spans.reset();
    const seen = await inParentSpan(parent, "exit.all.item", async (item, itemContext) => {
      const step = await inSpan(itemContext, "exit.router.call", (span) => span);
      return [item, step];
    });
    expect(seen.every((span) => span === unsampled)).toBe(true);
    await recording.flush();
    expect(recording.spans.getFinishedSpans()).toHaveLength(0);
  });

  it("under a recording parent, record each step as its child", async () => {
    const parentSpan = trace.getTracer("probe").startSpan("ExecuteExit");
    recording.spans.reset();
    await inSpan(trace.setSpan(ROOT_CONTEXT, parentSpan), "exit.router.call", (span) => expect(span.isRecording()).toBe(true));
    parentSpan.end();
    await recording.flush();
    const step = recording.spans.getFinishedSpans().find((span) => span.name === "exit.router.call");
    expect(step?.parentSpanContext?.spanId).toBe(parentSpan.spanContext().spanId);
  });
});
