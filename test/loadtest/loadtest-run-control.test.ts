/**
 * The load test against a target the operator runs: a port already taken
 * for the OTLP receiver, Ctrl-C in the middle of the load, and the progress
 * of registering trackers.
 */
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLoadtest } from "../../src/loadtest/loadtest.js";
import { parseLoadtestOptions } from "../../src/loadtest/loadtest-options.js";
import { formatLoadtestReport } from "../../src/loadtest/loadtest-report.js";
import type { CallMiddleware } from "../../src/rpc/call-middleware.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

describe("npm run loadtest against a running target", () => {
  let server: TestServer;
  let taken: net.Server;
  let takenPort: number;
  /** Aborts the current run's controller after this many ExecuteExit calls reached the server. */
  let abortAfter: { calls: number; controller: AbortController } | undefined;
  const countExits: CallMiddleware = (call, next) => {
    if (abortAfter && call.method === "ExecuteExit" && --abortAfter.calls === 0) abortAfter.controller.abort();
    return next();
  };
  beforeAll(async () => {
    server = await startTestServer({ engine: "grpc-js", adapters: { middleware: [countExits] } });
    taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    takenPort = (taken.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await server.close();
    await new Promise((resolve) => taken.close(resolve));
  });

  const options = (...extra: string[]) =>
    parseLoadtestOptions(["--short", "--no-progress", "--target", server.address, "--duration", "30s", ...extra]);

  it("runs without a receiver when the default OTLP port is taken, and says why in the report", async () => {
    const lines: string[] = [];
    const report = await runLoadtest(
      { ...options("--max-calls", "20", "--trackers", "20"), otlpPort: takenPort, otlpPortGiven: false },
      (line) => lines.push(line),
    );
    expect(report.calls).toBe(20);
    expect(report.spans).toEqual([]);
    const note = `port ${takenPort} is in use`;
    expect(report.notes.some((each) => each.includes(note))).toBe(true);
    expect(lines.some((each) => each.includes(note))).toBe(true);
  });

  it("stops with a message naming --otlp-port when that port was given and is taken", async () => {
    await expect(runLoadtest(options("--otlp-port", String(takenPort), "--max-calls", "5", "--trackers", "5"), () => {})).rejects.toThrow(
      new RegExp(`--otlp-port ${takenPort} is in use`),
    );
  });

  it("on Ctrl-C stops the load and reports the calls measured until then", async () => {
    const controller = new AbortController();
    abortAfter = { calls: 25, controller };
    const report = await runLoadtest(options("--no-receiver", "--trackers", "2000", "--concurrency", "4"), {
      say: () => {},
      signal: controller.signal,
    });
    abortAfter = undefined;
    const exits = Object.values(report.statuses.ExecuteExit ?? {}).reduce((sum, count) => sum + count, 0);
    expect(exits).toBeGreaterThanOrEqual(25);
    expect(exits).toBeLessThan(2000);
    expect(report.latency.ExecuteExit.count).toBe(exits);
    expect(report.notes.some((note) => note.startsWith("interrupted after"))).toBe(true);
    expect(formatLoadtestReport(report)).toMatch(/ExecuteExit\s+EXITED/);
  });

  it("reports the progress of registering trackers, ending at the total", async () => {
    const seen: [number, number][] = [];
    await runLoadtest(options("--no-receiver", "--trackers", "3000", "--max-calls", "1"), {
      say: () => {},
      onRegistered: (done, total) => seen.push([done, total]),
    });
    expect(seen.at(-1)).toEqual([3000, 3000]);
    expect(seen.every(([done], index) => index === 0 || done >= seen[index - 1]![0])).toBe(true);
  });
});
