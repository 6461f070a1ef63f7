import { Writable } from "node:stream";
import { SpanKind } from "@opentelemetry/api";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus, Segment } from "../../gen/tradingcore/v1/common_pb.js";
import { ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { traceIdsMixin } from "../../src/telemetry/log-trace-ids.js";
import { publishTick, registerTracker } from "../support/fixtures.js";
import { startRecordingTelemetry, type RecordingTelemetry } from "../support/recording-telemetry.js";
import { startTestServer, testEngine, type TestServer } from "../support/test-server.js";

const exitRequest = (orderNo: string) => ({ orderNo, reason: "target hit", reasonCode: ExitReasonCode.TAKE_PROFIT });

/** The JSON lines a pino logger wrote. */
function logLines(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n"))
        if (line.trim() !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { stream, lines };
}

describe(`telemetry conventions on the ${testEngine()} engine, default settings`, () => {
  let recording: RecordingTelemetry;
  let server: TestServer;
  const log = logLines();
  beforeAll(async () => {
    recording = startRecordingTelemetry();
    server = await startTestServer({
      adapters: { telemetry: recording.telemetry, log: pino({ level: "debug", mixin: traceIdsMixin }, log.stream) },
    });
  });
  afterAll(async () => {
    await server.close();
    await recording.shutdown();
  });

  it("writes the server span's trace_id and span_id into a log line written inside a traced exit", async () => {
    const orderNo = await registerTracker(server, { securityId: "7301" });
    await publishTick(server, "99.10", "7301");
    const { result } = await server.exits.executeExit(exitRequest(orderNo));
    expect(result?.status).toBe(ExitStatus.EXITED);
    await recording.flush();
    const span = recording.spans.getFinishedSpans().find((s) => s.name === "ExecuteExit" && s.attributes.order_no === orderNo)!;
    const traceId = span.spanContext().traceId;
    const written = log.lines.filter((line) => line.trace_id === traceId);
    expect(written.length).toBeGreaterThan(0);
    expect(written.map((line) => line.span_id)).toContain(span.spanContext().spanId);
    expect(written.every((line) => line.trace_flags === "01")).toBe(true);
  });

  it("writes no trace ids into a line written outside any call", () => {
    const startup = log.lines.find((line) => line.msg === "start-up reconciliation done")!;
    expect(startup).toBeDefined();
    expect(startup).not.toHaveProperty("trace_id");
  });

  it("gives a health check no span, but measures it", async () => {
    recording.spans.reset();
    await server.health.check({ service: "" });
    await server.ticks.getLtp({ instrument: { segment: Segment.NSE_FNO, securityId: "7301" } });
    await recording.flush();
    const names = recording.spans
      .getFinishedSpans()
      .filter((span) => span.kind === SpanKind.SERVER)
      .map((span) => span.name);
    expect(names).toContain("GetLtp");
    expect(names).not.toContain("Check");
    const points = await recording.points("rpc.server.duration");
    expect(points.map((point) => point.attributes)).toContainEqual({
      "rpc.system": "grpc",
      "rpc.service": "grpc.health.v1.Health",
      "rpc.method": "Check",
      "rpc.grpc.status_code": 0,
    });
  });

  it("records rpc.server.duration in ms per method and gRPC status code", async () => {
    const points = await recording.points("rpc.server.duration");
    const exits = points.find(
      (point) => point.attributes["rpc.method"] === "ExecuteExit" && point.attributes["rpc.grpc.status_code"] === 0,
    )!;
    expect(exits.attributes).toMatchObject({ "rpc.system": "grpc", "rpc.service": "tradingcore.v1.ExitService" });
    expect((exits.value as { count: number }).count).toBeGreaterThanOrEqual(1);
  });
});

describe(`telemetry on the ${testEngine()} engine with --trace-probes`, () => {
  let recording: RecordingTelemetry;
  let server: TestServer;
  beforeAll(async () => {
    recording = startRecordingTelemetry({ traceProbes: true });
    server = await startTestServer({ adapters: { telemetry: recording.telemetry } });
  });
  afterAll(async () => {
    await server.close();
    await recording.shutdown();
  });

  it("gives a health check its SERVER span", async () => {
    await server.health.check({ service: "" });
    await recording.flush();
    const check = recording.spans.getFinishedSpans().find((span) => span.name === "Check" && span.kind === SpanKind.SERVER);
    expect(check?.attributes["rpc.service"]).toBe("grpc.health.v1.Health");
  });
});

describe.runIf(testEngine() === "connect")("Connect-protocol calls on the connect engine", () => {
  let recording: RecordingTelemetry;
  let server: TestServer;
  beforeAll(async () => {
    recording = startRecordingTelemetry();
    server = await startTestServer({ adapters: { telemetry: recording.telemetry } });
  });
  afterAll(async () => {
    await server.close();
    await recording.shutdown();
  });

  it("say rpc.system connect_rpc on the span and the metric, and name a failure's Connect code", async () => {
    const transport = createConnectTransport({ baseUrl: `http://${server.address}`, httpVersion: "2" });
    const orderNo = await registerTracker(server, { securityId: "7302" });
    await publishTick(server, "88.20", "7302");
    const { result } = await createClient(ExitService, transport).executeExit(exitRequest(orderNo));
    expect(result?.status).toBe(ExitStatus.EXITED);
    await expect(createClient(Health, transport).check({ service: "no.such.Service" })).rejects.toThrow();
    await recording.flush();
    const span = recording.spans.getFinishedSpans().find((s) => s.name === "ExecuteExit" && s.attributes.order_no === orderNo)!;
    expect(span.attributes["rpc.system"]).toBe("connect_rpc");
    expect(span.attributes).not.toHaveProperty("rpc.grpc.status_code");
    const points = (await recording.points("rpc.server.duration")).map((point) => point.attributes);
    expect(points).toContainEqual({
      "rpc.system": "connect_rpc",
      "rpc.service": "tradingcore.v1.ExitService",
      "rpc.method": "ExecuteExit",
    });
    expect(points).toContainEqual({
      "rpc.system": "connect_rpc",
      "rpc.service": "grpc.health.v1.Health",
      "rpc.method": "Check",
      "rpc.connect_rpc.error_code": "not_found",
    });
  });
});
