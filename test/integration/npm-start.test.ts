import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { createGrpcJsClient } from "../../src/client/grpc-js-client.js";
import { listeningAddress } from "../../src/loadtest/tradingcore-process.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

describe("npm start, as the README gives it", () => {
  let npm: ChildProcess | undefined;
  afterEach(() => {
    // npm runs in a process group of its own: whatever it started goes with it, even if it outlived npm.
    try {
      if (npm?.pid) process.kill(-npm.pid, "SIGKILL");
    } catch {
      // The group is gone already.
    }
    npm = undefined;
  });

  it("builds the server, serves on the ports it is given, and stops gracefully on a SIGTERM sent to npm", async () => {
    const env = { ...process.env };
    delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
    npm = spawn("npm", ["start", "--", "--host", "127.0.0.1", "--port", "0", "--connect-port", "0"], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const lines: string[] = [];
    let stderr = "";
    npm.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const address = await new Promise<string>((resolve, reject) => {
      let buffered = "";
      npm!.stdout!.on("data", (chunk: Buffer) => {
        buffered += chunk.toString("utf8");
        for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          lines.push(line);
          const found = listeningAddress(line);
          if (found) resolve(found);
        }
      });
      npm!.once("exit", (code) => reject(new Error(`npm start exited with ${code} before listening: ${stderr}`)));
    });

    const health = createGrpcJsClient(Health, address);
    try {
      expect((await health.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    } finally {
      health.close();
    }

    const exited = once(npm, "exit");
    npm.kill("SIGTERM");
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    // The server itself got the signal (not just npm): it logged its own graceful stop.
    expect(lines.some((line) => line.includes("tradingcore stopped"))).toBe(true);
  }, 120_000);
});
