import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { metrics, trace } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startOtlpReceiver, type OtlpReceiver } from "../../../src/loadtest/otlp-receiver.js";
import { startTelemetry } from "../../../src/telemetry/telemetry.js";
import { startOtlpGrpcReceiver, type OtlpGrpcReceiver } from "../../support/otlp-grpc-receiver.js";

describe("OTEL_EXPORTER_OTLP_PROTOCOL=grpc", () => {
  let receiver: OtlpGrpcReceiver;
  beforeAll(async () => {
    receiver = await startOtlpGrpcReceiver();
  });
  afterAll(() => receiver.close());

  it("sends spans and metrics over OTLP/gRPC to OTEL_EXPORTER_OTLP_ENDPOINT", async () => {
    const telemetry = startTelemetry({}, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" });
    expect(telemetry.destinations).toEqual([`traces: otlp grpc ${receiver.endpoint}`, `metrics: otlp grpc ${receiver.endpoint}`]);
    metrics.getMeter("probe").createCounter("probe.count").add(1);
    trace.getTracer("probe").startSpan("over-grpc").end();
    await telemetry.shutdown();
    await receiver.until(() => receiver.spans.some((span) => span.name === "over-grpc") && receiver.metricExports > 0);
    expect(receiver.spans.find((span) => span.name === "over-grpc")?.serviceName).toBe("tradingcore");
  });

  it("takes the protocol per signal: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL wins over the general one", () => {
    const telemetry = startTelemetry(
      {},
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc",
        OTEL_METRICS_EXPORTER: "none",
      },
    );
    expect(telemetry.destinations).toEqual(["traces: otlp grpc http://127.0.0.1:1"]);
    return telemetry.shutdown();
  });
});

describe("OTEL_EXPORTER_OTLP_PROTOCOL=http/json", () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(() => receiver.close());

  it("sends spans as OTLP/JSON to $OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces", async () => {
    const telemetry = startTelemetry(
      {},
      { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_METRICS_EXPORTER: "none" },
    );
    expect(telemetry.destinations).toEqual([`traces: otlp http/json ${receiver.endpoint}/v1/traces`]);
    trace.getTracer("probe").startSpan("as-json").end();
    await telemetry.shutdown();
    expect(receiver.malformed).toBe(0);
    expect(receiver.spans.map((span) => span.name)).toContain("as-json");
  });
});

describe("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT without OTEL_EXPORTER_OTLP_ENDPOINT", () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(() => receiver.close());

  it("turns tracing on by itself, sending to that URL as it is, and leaves metrics off", async () => {
    const telemetry = startTelemetry({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.endpoint}/v1/traces` });
    expect([telemetry.tracing, telemetry.metering]).toEqual([true, false]);
    trace.getTracer("probe").startSpan("traces-endpoint-only").end();
    await telemetry.shutdown();
    expect(receiver.spans.map((span) => span.name)).toContain("traces-endpoint-only");
  });

  it("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT alone turns metrics on, and tracing stays off", async () => {
    const telemetry = startTelemetry({}, { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.endpoint}/v1/metrics` });
    expect([telemetry.tracing, telemetry.metering]).toEqual([false, true]);
    expect(telemetry.destinations).toEqual([`metrics: otlp http/protobuf ${receiver.endpoint}/v1/metrics`]);
    await telemetry.shutdown();
  });
});

describe("OTEL_TRACES_EXPORTER=console", () => {
  it("starts, and writes each ended span to the console instead of exporting it", async () => {
    let written: (name: string) => void = () => {};
    const printed = new Promise<string>((resolve) => (written = resolve));
    // The SDK prints a span once the resource's detected attributes are in, which can be after shutdown resolves.
    const dir = vi.spyOn(console, "dir").mockImplementation((span) => written(String((span as { name?: string }).name)));
    try {
      const telemetry = startTelemetry({}, { OTEL_TRACES_EXPORTER: "console" });
      expect([telemetry.tracing, telemetry.metering]).toEqual([true, false]);
      trace.getTracer("probe").startSpan("to-console").end();
      expect(await printed).toBe("to-console");
      await telemetry.shutdown();
    } finally {
      dir.mockRestore();
    }
  });
});

describe("OTEL_METRICS_EXPORTER=prometheus", () => {
  it("serves the metrics for scraping on OTEL_EXPORTER_PROMETHEUS_HOST:PORT, tradingcore's and rpc.server.duration among them", async () => {
    const port = await freePort();
    const telemetry = startTelemetry(
      {},
      { OTEL_METRICS_EXPORTER: "prometheus", OTEL_EXPORTER_PROMETHEUS_HOST: "127.0.0.1", OTEL_EXPORTER_PROMETHEUS_PORT: String(port) },
    );
    try {
      expect([telemetry.tracing, telemetry.metering]).toEqual([false, true]);
      expect(telemetry.destinations).toEqual([`metrics: prometheus http://127.0.0.1:${port}/metrics`]);
      metrics.getMeter("probe").createCounter("probe_scraped").add(3);
      const scraped = await scrape(`http://127.0.0.1:${port}/metrics`);
      expect(scraped).toMatch(/^probe_scraped(_total)?\{[^}]*\} 3/m);
    } finally {
      await telemetry.shutdown();
    }
  });

  it("refuses a port that is not one, naming the variable", () => {
    expect(() => startTelemetry({}, { OTEL_METRICS_EXPORTER: "prometheus", OTEL_EXPORTER_PROMETHEUS_PORT: "metrics" })).toThrow(
      /OTEL_EXPORTER_PROMETHEUS_PORT=metrics/,
    );
  });
});

describe("OTEL_BSP_* (the batch span processor's variables)", () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(() => receiver.close());

  it("exports a batch once OTEL_BSP_MAX_EXPORT_BATCH_SIZE spans have ended, and holds the rest for OTEL_BSP_SCHEDULE_DELAY", async () => {
    const telemetry = startTelemetry(
      {},
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_METRICS_EXPORTER: "none",
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "2",
        OTEL_BSP_SCHEDULE_DELAY: "3600000",
      },
    );
    for (let index = 0; index < 5; index++) trace.getTracer("probe").startSpan(`batched-${index}`).end();
    // Two full batches go at once; the fifth span waits for the hour's delay (here: for shutdown).
    expect(await receiver.waitFor((spans) => spans.length >= 4, 10_000)).toBe(true);
    expect(receiver.spans.map((span) => span.name).sort()).toEqual(["batched-0", "batched-1", "batched-2", "batched-3"]);
    await telemetry.shutdown();
    expect(receiver.spans).toHaveLength(5);
  });

  it("loses no span on a flush of more batches than the exporter's own limit of 30 in flight", async () => {
    const telemetry = startTelemetry(
      {},
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_METRICS_EXPORTER: "none",
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "1",
        OTEL_BSP_SCHEDULE_DELAY: "3600000",
      },
    );
    try {
      for (let index = 0; index < 100; index++) trace.getTracer("probe").startSpan(`flushed-${index}`).end();
      // Nearly all of them wait in the queue; the flush exports them at once, a batch of one each.
      await telemetry.flush();
      const flushed = () => receiver.spans.filter((span) => span.name.startsWith("flushed-"));
      await receiver.waitFor(() => flushed().length >= 100, 10_000);
      expect(flushed()).toHaveLength(100);
    } finally {
      await telemetry.shutdown();
    }
  });

  it("refuses a value that is not a whole number of 1 or more, naming the variable", () => {
    expect(() => startTelemetry({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1", OTEL_BSP_MAX_QUEUE_SIZE: "lots" })).toThrow(
      /OTEL_BSP_MAX_QUEUE_SIZE=lots/,
    );
    expect(() => startTelemetry({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1", OTEL_BSP_SCHEDULE_DELAY: "0" })).toThrow(
      /OTEL_BSP_SCHEDULE_DELAY=0/,
    );
  });
});

describe("exporter settings it cannot honour", () => {
  it("refuses an exporter it does not have, naming the variable and the value", () => {
    expect(() => startTelemetry({}, { OTEL_TRACES_EXPORTER: "otlp,zipkin" })).toThrow(
      /OTEL_TRACES_EXPORTER=otlp,zipkin: "zipkin" is not supported/,
    );
    expect(() => startTelemetry({}, { OTEL_METRICS_EXPORTER: "statsd" })).toThrow(/OTEL_METRICS_EXPORTER=statsd/);
  });

  it("refuses an unknown OTLP protocol, naming the variable", () => {
    expect(() =>
      startTelemetry({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1", OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "udp" }),
    ).toThrow(/OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=udp/);
  });

  it("refuses none combined with an exporter", () => {
    expect(() => startTelemetry({}, { OTEL_TRACES_EXPORTER: "none,console" })).toThrow(/OTEL_TRACES_EXPORTER=none,console/);
  });
});

describe("OTEL_SDK_DISABLED=true", () => {
  it("installs nothing, whatever else is set", async () => {
    const telemetry = startTelemetry({}, { OTEL_SDK_DISABLED: "true", OTEL_TRACES_EXPORTER: "console" });
    expect([telemetry.tracing, telemetry.metering]).toEqual([false, false]);
    await telemetry.shutdown();
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The exporter starts its HTTP server asynchronously: retry a refused connection until it listens. */
async function scrape(url: string): Promise<string> {
  for (;;) {
    try {
      const response = await fetch(url);
      return await response.text();
    } catch (error) {
      if (!String((error as { cause?: { code?: string } }).cause?.code).includes("ECONNREFUSED")) throw error;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
