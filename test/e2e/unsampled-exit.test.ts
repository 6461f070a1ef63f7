import { type Attributes, INVALID_SPAN_CONTEXT, type Span, trace } from "@opentelemetry/api";
import { type Sampler, SamplingDecision } from "@opentelemetry/sdk-trace";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ExitReasonCode, ExitStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { EXIT_SPANS } from "../../src/exit/exit-tracing.js";
import { publishTick, registerTracker } from "../support/fixtures.js";
import { type RecordingTelemetry, startRecordingTelemetry } from "../support/recording-telemetry.js";
import { startTestServer, testEngine, type TestServer } from "../support/test-server.js";

/** What the SDK asked the sampler: the span's name and the attributes it was started with. */
interface Asked {
  readonly name: string;
  readonly attributes: Attributes;
}

/** Answers as `decide` says for each span, and keeps what it was asked. */
class AskedSampler implements Sampler {
  readonly asked: Asked[] = [];
  decide: (name: string) => SamplingDecision = () => SamplingDecision.NOT_RECORD;

  shouldSample(_context: unknown, _traceId: string, name: string, _kind: unknown, attributes: Attributes) {
    this.asked.push({ name, attributes: { ...attributes } });
    return { decision: this.decide(name) };
  }

  toString(): string {
    return "AskedSampler";
  }
}

/** The span the API hands out when nothing records: the class behind every unsampled span. */
const nonRecordingSpan = Object.getPrototypeOf(trace.wrapSpanContext(INVALID_SPAN_CONTEXT)) as Span;

const exitRequest = (orderNo: string) => ({ orderNo, reason: "stop loss hit", reasonCode: ExitReasonCode.STOP_LOSS });
const STEP_NAMES: ReadonlySet<string> = new Set(Object.values(EXIT_SPANS));

let sampler: AskedSampler;
let recording: RecordingTelemetry;
let server: TestServer;
beforeAll(async () => {
  sampler = new AskedSampler();
  recording = startRecordingTelemetry({ sampler });
  // No reconciler pass while the test runs: its root spans would be asked of the sampler too.
  server = await startTestServer({
    adapters: { telemetry: recording.telemetry },
    config: { fillWaitMs: 100, reconcilerIntervalMs: 3_600_000 },
  });
});
afterAll(async () => {
  await server.close();
  await recording.shutdown();
});
afterEach(() => {
  vi.restoreAllMocks();
  sampler.decide = () => SamplingDecision.NOT_RECORD;
});

/** Runs one exit to EXITED and waits until its lock release (sent after the answer) is done too. */
async function exitOnce(securityId: string): Promise<string> {
  const orderNo = await registerTracker(server, { securityId });
  await publishTick(server, "104.35", securityId);
  sampler.asked.length = 0;
  recording.spans.reset();
  const { result } = await server.exits.executeExit(exitRequest(orderNo));
  expect(result?.status).toBe(ExitStatus.EXITED);
  await server.core.services.engine.whenIdle();
  await recording.flush();
  return orderNo;
}

describe(`an ExecuteExit the sampler leaves out, on the ${testEngine()} engine`, () => {
  it("asks the sampler once, for the server span, with the rpc attributes only; the steps ask nothing", async () => {
    await exitOnce("4801");
    expect(sampler.asked.map((asked) => asked.name)).toEqual(["ExecuteExit"]);
    expect(sampler.asked[0]!.attributes).toEqual({
      "rpc.system": "grpc",
      "rpc.service": "tradingcore.v1.ExitService",
      "rpc.method": "ExecuteExit",
    });
  });

  it("records and exports no span", async () => {
    await exitOnce("4802");
    expect(recording.spans.getFinishedSpans()).toEqual([]);
  });

  it("sets no attribute, status or exception on the spans that record nothing", async () => {
    const setAttributes = vi.spyOn(nonRecordingSpan, "setAttributes");
    const setAttribute = vi.spyOn(nonRecordingSpan, "setAttribute");
    const setStatus = vi.spyOn(nonRecordingSpan, "setStatus");
    const recordException = vi.spyOn(nonRecordingSpan, "recordException");
    await exitOnce("4803");
    expect(setAttributes).not.toHaveBeenCalled();
    expect(setAttribute).not.toHaveBeenCalled();
    expect(setStatus).not.toHaveBeenCalled();
    expect(recordException).not.toHaveBeenCalled();
  });
});

describe(`an ExecuteExit the sampler records, on the ${testEngine()} engine`, () => {
  it("records the server span with every attribute, and each step as its child", async () => {
    sampler.decide = () => SamplingDecision.RECORD_AND_SAMPLED;
    const orderNo = await exitOnce("4804");
    const spans = recording.spans.getFinishedSpans();
    const serverSpan = spans.find((span) => span.name === "ExecuteExit");
    expect(serverSpan?.attributes).toMatchObject({
      "rpc.system": "grpc",
      "rpc.method": "ExecuteExit",
      "rpc.grpc.status_code": 0,
      "tradingcore.engine": testEngine(),
      order_no: orderNo,
      "exit.status": "EXITED",
      "ltp.source": "MEMORY",
    });
    const steps = spans.filter((span) => STEP_NAMES.has(span.name));
    // The lock's acquisition and release, the intent, the router call and the tracker's update.
    expect(steps).toHaveLength(5);
    for (const step of steps) expect(step.parentSpanContext?.spanId, step.name).toBe(serverSpan!.spanContext().spanId);
    expect(sampler.asked.filter((asked) => STEP_NAMES.has(asked.name))).toHaveLength(steps.length);
  });
});
