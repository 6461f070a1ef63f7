/**
 * The bench's reading of a redis-server's own CPU time: from INFO cpu, in
 * µs, growing with the work the server does.
 */
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisServer } from "../../src/loadtest/redis-server-process.js";
import { cpuMicrosFromInfo, redisServerCpu } from "../../src/loadtest/redis-server-cpu.js";

const SLOW = 60_000;
let server: RedisServer;
beforeAll(async () => {
  server = await RedisServer.start();
}, SLOW);
afterAll(async () => {
  await server?.destroy();
}, SLOW);

describe("a redis-server's CPU for the bench", () => {
  it(
    "is read from INFO cpu and grows with the server's work",
    async () => {
      const cpu = await redisServerCpu(server.url);
      try {
        const before = await cpu.read();
        // Enough work to take some milliseconds of the server's CPU, in one script call.
        const client = createClient({ url: server.url });
        await client.connect();
        await client.eval("for i = 1, 200000 do redis.call('incr', KEYS[1]) end return 1", { keys: ["cpu-test"], arguments: [] });
        await client.close();
        const after = await cpu.read();
        expect(Number.isSafeInteger(before)).toBe(true);
        expect(after - before).toBeGreaterThan(1_000);
      } finally {
        await cpu.close();
      }
    },
    SLOW,
  );

  it("adds user and system time, and names a field the reply lacks", () => {
    expect(cpuMicrosFromInfo("# CPU\r\nused_cpu_sys:0.250000\r\nused_cpu_user:1.500001\r\n")).toBe(1_750_001);
    expect(() => cpuMicrosFromInfo("# CPU\r\nused_cpu_user:1.5\r\n")).toThrow(/used_cpu_sys/);
  });
});
