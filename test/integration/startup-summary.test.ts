/**
 * The start-up line a operator reads first: one JSON log line whose `using`
 * names the store, the lock, the router, the tick sources and where
 * telemetry goes, without a password or token anywhere in it. And the port a
 * platform assigns in PORT.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { createClient } from "redis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { listeningAddress } from "../../src/loadtest/tradingcore-process.js";
import { startOtlpReceiver, type OtlpReceiver } from "../../src/loadtest/otlp-receiver.js";
import type { StartupSummary } from "../../src/startup-summary.js";
import { freeLoopbackPort, RedisServer } from "../support/redis-server.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";

const SLOW = 90_000;
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function summaryIn(lines: readonly string[]): { line: string; using: StartupSummary } {
  const found = lines
    .map((line) => ({ line, parsed: JSON.parse(line) as { using?: StartupSummary } }))
    .filter((entry) => entry.parsed.using !== undefined);
  expect(found).toHaveLength(1);
  return { line: found[0]!.line, using: found[0]!.parsed.using! };
}

describe("the start-up line of a server process", () => {
  let server: ServerProcess | undefined;
  afterEach(async () => {
    await server?.stop("SIGKILL");
    server = undefined;
  });

  describe("on the embedded defaults", () => {
    it(
      "names the memory store, the in-process lock, the paper router, the memory tick cache and no telemetry",
      async () => {
        server = await startServerProcess([], { OTEL_EXPORTER_OTLP_ENDPOINT: "" });
        const { using } = summaryIn(server.lines);
        expect(using).toEqual({
          store: "memory",
          lock: "in-process",
          router: "paper",
          ticks: ["memory"],
          telemetry: "off",
          audit: "memory keeping 100000 events",
        });
      },
      SLOW,
    );
  });

  describe("on Redis with credentials, a token, a faulty paper router and an OTLP endpoint", () => {
    let redis: RedisServer;
    let receiver: OtlpReceiver;

    beforeAll(async () => {
      [redis, receiver] = await Promise.all([RedisServer.start(), startOtlpReceiver({ port: 0 })]);
      const admin = createClient({ url: redis.url });
      await admin.connect();
      await admin.sendCommand(["ACL", "SETUSER", "desk", "on", ">redis-secret-pw", "~*", "&*", "+@all"]);
      admin.destroy();
    }, SLOW);

    afterAll(async () => {
      await Promise.all([redis?.destroy(), receiver?.close()]);
    }, SLOW);

    it(
      "names each of them, with the URLs stripped of their credentials and no secret in the line",
      async () => {
        const redisUrl = `redis://desk:redis-secret-pw@127.0.0.1:${redis.port}`;
        server = await startServerProcess(["--paper-reject-rate", "0.25", "--redis-key-prefix", "desk9:"], {
          TRADINGCORE_REDIS_URL: redisUrl,
          TRADINGCORE_AUTH_TOKEN: "auth-secret-token",
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        });
        const { line, using } = summaryIn(server.lines);
        expect(using.store).toBe(`redis redis://127.0.0.1:${redis.port} prefix desk9:`);
        expect(using.lock).toBe(`redlock 1 node redis://127.0.0.1:${redis.port} quorum 1`);
        expect(using.audit).toBe("redis stream desk9:exit-trail keeping 100000 events");
        expect(using.router).toBe("paper (order book in redis) with reject rate 0.25, seed 1");
        expect(using.ticks).toEqual(["memory", "redis"]);
        expect(using.telemetry).toContain(new URL(receiver.endpoint).host);
        for (const secret of ["redis-secret-pw", "auth-secret-token"]) expect(line).not.toContain(secret);
      },
      SLOW,
    );
  });
});

describe("a server process given only PORT", () => {
  it(
    "listens for gRPC on that port",
    async () => {
      const port = await freeLoopbackPort();
      const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), OTEL_EXPORTER_OTLP_ENDPOINT: "" };
      delete env.TRADINGCORE_PORT;
      const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "--engine", "grpc-js"], {
        cwd: ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      try {
        const address = await new Promise<string>((resolve, reject) => {
          let buffered = "";
          child.stdout!.on("data", (chunk: Buffer) => {
            buffered += chunk.toString("utf8");
            for (const line of buffered.split("\n")) {
              const found = listeningAddress(line);
              if (found) resolve(found);
            }
          });
          child.once("exit", (code) => reject(new Error(`exited with ${code} before listening`)));
        });
        expect(address).toBe(`127.0.0.1:${port}`);
      } finally {
        const exited = once(child, "exit");
        process.kill(child.pid!, "SIGTERM");
        await exited;
      }
    },
    SLOW,
  );
});
