import { describe, expect, it } from "vitest";
import { createContextValues } from "@connectrpc/connect";
import { isTradingCoreError } from "../../../../src/domain/trading-core-error.js";
import type { CallInfo } from "../../../../src/rpc/call-middleware.js";
import { ShutdownGate } from "../../../../src/server/middleware/shutdown-gate.js";

const call = (service: string, method: string, kind: CallInfo["kind"] = "unary"): CallInfo => ({
  service,
  method,
  kind,
  engine: "connect",
  protocol: "grpc",
  headers: { get: () => undefined },
  peer: "127.0.0.1:1",
  signal: new AbortController().signal,
  values: createContextValues(),
});
const EXIT = call("tradingcore.v1.ExitService", "ExecuteExit");
const STREAM = call("tradingcore.v1.TickService", "StreamLtp", "server_streaming");

/** A call whose handler runs until `finish()`. */
function held() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { next: () => done, finish };
}

describe("ShutdownGate", () => {
  it("lets calls through until it refuses new ones, then answers UNAVAILABLE without running them", async () => {
    const gate = new ShutdownGate([]);
    let ran = 0;
    await gate.middleware(EXIT, async () => void ran++);
    gate.refuseNewCalls();
    const refused = await gate.middleware(EXIT, async () => void ran++).catch((error: unknown) => error);
    expect(isTradingCoreError(refused, "unavailable")).toBe(true);
    expect(ran).toBe(1);
  });

  it("settles only once every running call has finished", async () => {
    const gate = new ShutdownGate([]);
    const exit = held();
    const running = gate.middleware(EXIT, exit.next);
    gate.refuseNewCalls();
    let settled: boolean | undefined;
    const settling = gate.settle(60_000).then((result) => (settled = result));
    await Promise.resolve();
    expect(settled).toBeUndefined();
    expect(gate.runningCalls).toBe(1);
    exit.finish();
    await running;
    expect(await settling).toBe(true);
  });

  it("stops waiting after the grace period and says so, leaving the call running", async () => {
    const gate = new ShutdownGate([]);
    const exit = held();
    const running = gate.middleware(EXIT, exit.next);
    expect(await gate.settle(0)).toBe(false);
    expect(gate.runningCalls).toBe(1);
    exit.finish();
    await running;
  });

  it("ends subscriptions with UNAVAILABLE when streams are closed, and does not wait for them to settle", async () => {
    const gate = new ShutdownGate(["tradingcore.v1.TickService/StreamLtp"]);
    const stream = held();
    const open = gate.middleware(STREAM, stream.next).catch((error: unknown) => error);
    expect(await gate.settle(60_000)).toBe(true);
    gate.closeStreams();
    const ended = await open;
    expect(isTradingCoreError(ended, "unavailable")).toBe(true);
    expect((ended as Error).message).toMatch(/shutting down/);
    stream.finish();
  });
});
