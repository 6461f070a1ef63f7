import { networkInterfaces } from "node:os";
import { describe, expect, it } from "vitest";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { createGrpcJsClient } from "../../src/client/grpc-js-client.js";
import { loadConfig } from "../../src/config.js";
import { startTradingCore } from "../../src/main.js";
import { testEngine } from "../support/test-server.js";

const ipv6Loopback = Object.values(networkInterfaces()).some((addresses) =>
  addresses?.some((a) => a.family === "IPv6" && a.address === "::1"),
);

describe.runIf(ipv6Loopback)("A server told to listen on the IPv6 loopback", () => {
  it.each(["[::1]", "::1"])("with --host %s starts, names [::1]:port, and answers there", async (host) => {
    const config = loadConfig(
      ["--host", host, "--port", "0", "--connect-port", "0", "--engine", testEngine(), "--log-level", "silent"],
      {},
    );
    const core = await startTradingCore(config);
    const health = createGrpcJsClient(Health, core.address);
    try {
      expect(core.address).toMatch(/^\[::1\]:\d+$/);
      expect((await health.check({ service: "" }, { timeoutMs: 10_000 })).status).toBe(1);
    } finally {
      health.close();
      await core.stop();
    }
  });
});
