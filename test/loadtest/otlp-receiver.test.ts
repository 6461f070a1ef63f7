import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { decodeTraceRequestJson } from "../../src/loadtest/otlp-span-decoder.js";
import { startOtlpReceiver, type OtlpReceiver } from "../../src/loadtest/otlp-receiver.js";
import { startTelemetry } from "../../src/telemetry/telemetry.js";
import { publishTick, registerTracker } from "../support/fixtures.js";
import { startTestServer } from "../support/test-server.js";

const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const PARENT_ID = "b7ad6b7169203331";

describe("the load test's OTLP receiver, fed by the server's real OTLP/protobuf exporter", () => {
  let receiver: OtlpReceiver;
  let orderNo: string;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const telemetry = startTelemetry({ otlpEndpoint: receiver.endpoint, serviceName: "tradingcore-under-test" }, {});
    const server = await startTestServer({ adapters: { telemetry } });
    try {
      orderNo = await registerTracker(server, { securityId: "5501" });
      await publishTick(server, "77.05", "5501");
      const { result } = await server.exits.executeExit(
        { orderNo, reason: "take profit", reasonCode: ExitReasonCode.TAKE_PROFIT },
        { metadata: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` } },
      );
      expect(result?.status).toBe(ExitStatus.EXITED);
    } finally {
      await server.close();
      await telemetry.shutdown(); // flushes the batch to the receiver
    }
  });
  afterAll(() => receiver.close());

  it("decodes the server span with its trace id, remote parent, attributes and service name", () => {
    const span = receiver.spans.find((candidate) => candidate.name === "ExecuteExit")!;
    expect(span).toBeDefined();
    expect(span.traceId).toBe(TRACE_ID);
    expect(span.parentSpanId).toBe(PARENT_ID);
    expect(span.kind).toBe(2);
    expect(span.serviceName).toBe("tradingcore-under-test");
    expect(span.attributes).toMatchObject({ order_no: orderNo, "exit.status": "EXITED", "rpc.grpc.status_code": 0 });
    expect(span.attributes["ltp.source"]).toBe("MEMORY");
    expect(span.attributes["ltp.stale"]).toBe(false);
    expect(typeof span.attributes["ltp.age_ms"]).toBe("number");
    expect(span.endNs).toBeGreaterThanOrEqual(span.startNs);
    expect(receiver.malformed).toBe(0);
  });

  it("decodes every step span as a child of the server span, with typed attributes", () => {
    const server = receiver.spans.find((candidate) => candidate.name === "ExecuteExit")!;
    const steps = receiver.spans.filter((candidate) => candidate.parentSpanId === server.spanId);
    expect(steps.map((step) => step.name).sort()).toEqual([
      "exit.intent.persist",
      "exit.lock.acquire",
      "exit.lock.release",
      "exit.router.call",
      "exit.tracker.update",
    ]);
    expect(steps.find((step) => step.name === "exit.lock.acquire")!.attributes["lock.attempts"]).toBe(1);
  });
});

describe("the OTLP/JSON decoder", () => {
  it("reads spans, hex ids, nanosecond times and attributes", () => {
    const [span] = decodeTraceRequestJson(
      JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [{ key: "service.name", value: { stringValue: "py-strategy" } }] },
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: TRACE_ID.toUpperCase(),
                    spanId: PARENT_ID,
                    name: "decide",
                    kind: 3,
                    startTimeUnixNano: "1700000000000000000",
                    endTimeUnixNano: "1700000000001500000",
                    attributes: [
                      { key: "n", value: { intValue: "3" } },
                      { key: "ok", value: { boolValue: true } },
                    ],
                    status: { code: 2 },
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    expect(span).toMatchObject({
      traceId: TRACE_ID,
      spanId: PARENT_ID,
      parentSpanId: "",
      name: "decide",
      kind: 3,
      statusCode: 2,
      serviceName: "py-strategy",
    });
    expect(span!.durationMs).toBe(1.5);
    expect(span!.attributes).toEqual({ n: 3, ok: true });
  });
});
