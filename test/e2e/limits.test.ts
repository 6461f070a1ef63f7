import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { ExitStatus, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import { createGrpcJsClient } from "../../src/client/grpc-js-client.js";
import type { CallMiddleware } from "../../src/rpc/call-middleware.js";
import { registerTracker, uniqueOrderNo } from "../support/fixtures.js";
import { HeldRouter } from "../support/held-router.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => grpc.status.OK,
    (error: grpc.ServiceError) => error.code,
  );
const exitRequest = (orderNo: string) => ({ orderNo, reason: "stop loss hit" });

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("A request larger than the message limit", () => {
  it("answers RESOURCE_EXHAUSTED and the server goes on serving", async () => {
    server = await startTestServer({ config: { maxMessageBytes: 16 * 1024 } });
    const oversize = { orderNo: uniqueOrderNo("big"), reason: "x".repeat(64 * 1024) };
    expect(await codeOf(server.exits.executeExit(oversize))).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const orderNo = await registerTracker(server);
    const { result } = await server.exits.executeExit(exitRequest(orderNo));
    expect(result?.status).toBe(ExitStatus.EXITED);
  });
});

describe("Exits in flight on one connection past the limit", () => {
  it("answer RESOURCE_EXHAUSTED at once, while other connections and the running exits go on", async () => {
    const router = new HeldRouter();
    server = await startTestServer({ config: { maxInflightExitsPerConnection: 2, routerTimeoutMs: 60_000 }, adapters: { router } });
    const [first, second, third] = [await registerTracker(server), await registerTracker(server), await registerTracker(server)];
    const running = [server.exits.executeExit(exitRequest(first)), server.exits.executeExit(exitRequest(second))];
    await router.untilHeld(2);

    expect(await codeOf(server.exits.executeExit(exitRequest(third)))).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect((await server.exits.getTracker({ orderNo: third })).tracker?.status).toBe(TrackerStatus.ACTIVE);
    expect(router.ordersFor(third)).toBe(0);

    const other = createGrpcJsClient(ExitService, server.address, { channelOptions: { "grpc.use_local_subchannel_pool": 1 } });
    try {
      const pending = other.executeExit(exitRequest(third));
      await router.untilHeld(3);
      router.release();
      expect((await pending).result?.status).toBe(ExitStatus.EXITED);
    } finally {
      other.close();
    }
    for (const response of await Promise.all(running)) expect(response.result?.status).toBe(ExitStatus.EXITED);
  });
});

describe("Exits whose callers give up at once, on one connection", () => {
  it("give their slots back: a normal exit on the same connection still runs", async () => {
    const router = new HeldRouter();
    const exits = new RunningExits();
    server = await startTestServer({
      config: { maxInflightExitsPerConnection: 4, routerTimeoutMs: 60_000 },
      adapters: { router, middleware: [exits.middleware] },
    });
    const abandoned = await Promise.all(Array.from({ length: 8 }, () => registerTracker(server!)));
    const answers = abandoned.map((orderNo) => codeOf(server!.exits.executeExit(exitRequest(orderNo), { timeoutMs: 1 })));
    // The exits that got a slot are held at the broker until every caller has given up and its stream is gone.
    for (const code of await Promise.all(answers)) expect([grpc.status.DEADLINE_EXCEEDED, grpc.status.RESOURCE_EXHAUSTED]).toContain(code);
    // Frames of one connection are read in order: once this call is answered, every abandoned call has
    // reached the server (or been dropped by it); then release the held ones and wait until each has ended.
    await server.exits.listTrackers({});
    router.release();
    await exits.allEnded();

    const { result } = await server.exits.executeExit(exitRequest(await registerTracker(server)));
    expect(result?.status).toBe(ExitStatus.EXITED);
  });
});

/** Call middleware that knows when every ExecuteExit that reached the handlers has ended. */
class RunningExits {
  private running = 0;
  private waiters: (() => void)[] = [];

  readonly middleware: CallMiddleware = async (call, next) => {
    if (call.method !== "ExecuteExit") return next();
    this.running++;
    try {
      await next();
    } finally {
      if (--this.running === 0) for (const wake of this.waiters.splice(0)) wake();
    }
  };

  allEnded(): Promise<void> {
    return this.running === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

describe("An exit whose caller's deadline passes", () => {
  it("answers DEADLINE_EXCEEDED, still finishes, and GetTracker reads the outcome", async () => {
    const router = new HeldRouter();
    server = await startTestServer({ config: { routerTimeoutMs: 60_000 }, adapters: { router } });
    const orderNo = await registerTracker(server);
    const call = codeOf(server.exits.executeExit(exitRequest(orderNo), { timeoutMs: 500 }));
    await router.untilHeld(1);
    expect(await call).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect((await server.exits.getTracker({ orderNo })).tracker?.status).toBe(TrackerStatus.EXITING);

    router.release();
    let tracker = (await server.exits.getTracker({ orderNo })).tracker;
    for (let attempt = 0; tracker?.status !== TrackerStatus.EXITED && attempt < 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      tracker = (await server.exits.getTracker({ orderNo })).tracker;
    }
    expect(tracker?.status).toBe(TrackerStatus.EXITED);
    expect(router.ordersFor(orderNo)).toBe(1);
  });
});
