import { spawnSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { createGrpcJsClient } from "../../src/client/grpc-js-client.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";

describe("tradingcore as a process, started as npm start starts it", () => {
  let server: ServerProcess | undefined;
  afterEach(async () => {
    await server?.stop("SIGKILL");
    server = undefined;
  });

  it("picks a free port with --port 0, names it in its start-up log line, and serves health there", async () => {
    server = await startServerProcess();
    expect(server.port).toBeGreaterThan(0);
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
    const health = createGrpcJsClient(Health, server.address);
    try {
      expect((await health.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    } finally {
      health.close();
    }
  });

  it("exits 0 on SIGTERM after logging its shutdown", async () => {
    server = await startServerProcess();
    expect(await server.stop("SIGTERM")).toBe(0);
    expect(server.lines.some((line) => line.includes("tradingcore stopped"))).toBe(true);
  });

  it("refuses a bad setting at start-up with exit code 2 and a message naming it", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts", "--lock-ttl-ms", "soon"], {
      cwd: new URL("../..", import.meta.url),
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/invalid configuration: --lock-ttl-ms: "soon" is not a whole number/);
  });

  it("refuses an OpenTelemetry exporter it does not have the same way", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: new URL("../..", import.meta.url),
      encoding: "utf8",
      timeout: 30_000,
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_TRACES_EXPORTER: "zipkin" },
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/invalid configuration: OTEL_TRACES_EXPORTER=zipkin: "zipkin" is not supported/);
  });
});
