import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { trace } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOtlpReceiver, type OtlpReceiver } from "../../../src/loadtest/otlp-receiver.js";
import { startTelemetry } from "../../../src/telemetry/telemetry.js";

describe("startTelemetry with no OTLP endpoint and no readers of its own", () => {
  it("installs nothing: no tracing, no metering, no middleware", async () => {
    const telemetry = startTelemetry({}, {});
    expect(telemetry.tracing).toBe(false);
    expect(telemetry.metering).toBe(false);
    expect(telemetry.middleware).toHaveLength(0);
    expect(trace.getTracer("probe").startSpan("probe").isRecording()).toBe(false);
    await telemetry.shutdown();
  });
});

describe("startTelemetry with OTEL_EXPORTER_OTLP_ENDPOINT set", () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(() => receiver.close());

  it("records spans, collects metrics, measures and opens a server span per call, and exports spans there", async () => {
    const telemetry = startTelemetry({}, { OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.endpoint}/` });
    expect(telemetry.tracing).toBe(true);
    expect(telemetry.metering).toBe(true);
    expect(telemetry.middleware).toHaveLength(2);
    const probe = trace.getTracer("probe").startSpan("env-probe");
    expect(probe.isRecording()).toBe(true);
    probe.end();
    await telemetry.shutdown();
    expect(receiver.spans.map((span) => span.name)).toContain("env-probe");
  });

  it("leaves tracing out with OTEL_TRACES_EXPORTER=none, and metrics out with OTEL_METRICS_EXPORTER=none", async () => {
    const metricsOnly = startTelemetry({}, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_TRACES_EXPORTER: "none" });
    expect([metricsOnly.tracing, metricsOnly.metering]).toEqual([false, true]);
    expect(metricsOnly.middleware).toHaveLength(1);
    await metricsOnly.shutdown();
    const tracesOnly = startTelemetry({}, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_METRICS_EXPORTER: "NONE" });
    expect([tracesOnly.tracing, tracesOnly.metering]).toEqual([true, false]);
    await tracesOnly.shutdown();
  });

  it("refuses an exporter it does not have, naming the variable", () => {
    expect(() => startTelemetry({}, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_TRACES_EXPORTER: "zipkin" })).toThrow(
      /OTEL_TRACES_EXPORTER=zipkin/,
    );
  });

  it("refuses an OTLP protocol it does not know, naming the variable", () => {
    expect(() => startTelemetry({}, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "thrift" })).toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL=thrift/,
    );
    expect(() =>
      startTelemetry(
        {},
        { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "grpc", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "json" },
      ),
    ).toThrow(/OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=json/);
  });

  it("unregisters its providers on shutdown, so it can be started again in the same process", async () => {
    const telemetry = startTelemetry({}, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint });
    expect(trace.getTracer("probe").startSpan("again").isRecording()).toBe(true);
    await telemetry.shutdown();
    expect(trace.getTracer("probe").startSpan("after").isRecording()).toBe(false);
  });
});

describe("startTelemetry when the collector refuses spans", () => {
  it("reports the failure to the log it was given, and keeps running", async () => {
    const refusing = createServer((request, response) => {
      request.resume();
      request.on("end", () => response.writeHead(400, { "content-type": "text/plain" }).end("bad request"));
    });
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
    const { port } = refusing.address() as AddressInfo;
    const problems: string[] = [];
    const log = {
      info() {},
      warn: (_fields: object, message: string) => void problems.push(message),
      error: (_fields: object, message: string) => void problems.push(message),
    };
    const telemetry = startTelemetry({}, { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` });
    try {
      telemetry.reportProblemsTo(log);
      trace.getTracer("probe").startSpan("refused").end();
      await telemetry.flush();
      expect(problems).toContain("exporting spans failed");
    } finally {
      await telemetry.shutdown();
      await new Promise((resolve) => refusing.close(resolve));
    }
  });
});
