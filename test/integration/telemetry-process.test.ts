import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus, Segment, Side } from "../../gen/tradingcore/v1/common_pb.js";
import { ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import { TickService } from "../../gen/tradingcore/v1/tick_pb.js";
import { createGrpcJsClient } from "../../src/client/grpc-js-client.js";
import { startOtlpGrpcReceiver, type OtlpGrpcReceiver } from "../support/otlp-grpc-receiver.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";

describe("the server process started with OTEL_EXPORTER_OTLP_PROTOCOL=grpc", () => {
  let receiver: OtlpGrpcReceiver;
  let server: ServerProcess;
  let orderNo: string;
  beforeAll(async () => {
    receiver = await startOtlpGrpcReceiver();
    server = await startServerProcess(["--log-level", "debug"], {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_METRICS_EXPORTER: "none",
      OTEL_TRACES_SAMPLER: "always_on",
    });
    const exits = createGrpcJsClient(ExitService, server.address);
    const ticks = createGrpcJsClient(TickService, server.address);
    try {
      orderNo = `OTEL-${process.pid}`;
      await exits.registerTracker({
        orderNo,
        segment: Segment.NSE_FNO,
        securityId: "7401",
        symbol: "NIFTY",
        side: Side.LONG,
        quantity: "75",
        entryPrice: "101.55",
        paper: true,
      });
      await ticks.publishTicks([{ ticks: [{ instrument: { segment: Segment.NSE_FNO, securityId: "7401" }, ltp: "102.05" }] }]);
      const { result } = await exits.executeExit({ orderNo, reason: "stop loss hit", reasonCode: ExitReasonCode.STOP_LOSS });
      expect(result?.status).toBe(ExitStatus.EXITED);
    } finally {
      exits.close();
      ticks.close();
    }
    // An orderly stop exports what the batch processor still holds.
    expect(await server.stop("SIGTERM")).toBe(0);
  });
  afterAll(() => receiver.close());

  it("exports the exit's spans over OTLP/gRPC", async () => {
    await receiver.until(() => receiver.spans.some((span) => span.name === "ExecuteExit" && span.attributes.order_no === orderNo));
    const exit = receiver.spans.find((span) => span.name === "ExecuteExit" && span.attributes.order_no === orderNo)!;
    const steps = receiver.spans
      .filter((span) => span.traceId === exit.traceId && span.parentSpanId === exit.spanId)
      .map((span) => span.name);
    expect(steps).toContain("exit.router.call");
  });

  it("writes that span's trace_id and span_id into the log line of the call", async () => {
    await receiver.until(() => receiver.spans.some((span) => span.name === "ExecuteExit" && span.attributes.order_no === orderNo));
    const exit = receiver.spans.find((span) => span.name === "ExecuteExit" && span.attributes.order_no === orderNo)!;
    const lines = server.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const finished = lines.find((line) => line.msg === "call finished" && line.rpc === "tradingcore.v1.ExitService/ExecuteExit");
    expect(finished).toMatchObject({ trace_id: exit.traceId, span_id: exit.spanId });
  });
});
