import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Segment } from "../../gen/tradingcore/v1/common_pb.js";
import { TradingCoreError } from "../../src/domain/trading-core-error.js";
import type { CallInfo, CallMiddleware } from "../../src/rpc/call-middleware.js";
import { publishTick, registerTracker, uniqueOrderNo } from "../support/fixtures.js";
import { startTestServer, testEngine, type TestServer } from "../support/test-server.js";

/** Records every call it sees, and when each call's `next` settled relative to the others. */
function recordingMiddleware() {
  const seen: { info: CallInfo; token: string | undefined; settled: boolean; failed: boolean }[] = [];
  const middleware: CallMiddleware = async (info, next) => {
    const entry = { info, token: info.headers.get("x-test-token"), settled: false, failed: false };
    seen.push(entry);
    try {
      await next();
    } catch (error) {
      entry.failed = true;
      throw error;
    } finally {
      entry.settled = true;
    }
  };
  return { seen, middleware };
}

/** Refuses calls to GetTracker that carry no `x-test-token`. */
const refuseWithoutToken: CallMiddleware = async (info, next) => {
  if (info.method === "GetTracker" && info.headers.get("x-test-token") === undefined) {
    throw new TradingCoreError("invalid-argument", "x-test-token is required");
  }
  await next();
};

describe(`call middleware on the ${testEngine()} engine`, () => {
  const recorder = recordingMiddleware();
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ adapters: { middleware: [recorder.middleware, refuseWithoutToken] } });
  });
  afterAll(() => server.close());

  it("sees the service, method, kind, engine and request headers of a unary call", async () => {
    await server.health.check({ service: "" }, { metadata: { "x-test-token": "abc" } });
    const call = recorder.seen.at(-1)!;
    expect(call.info.service).toBe("grpc.health.v1.Health");
    expect(call.info.method).toBe("Check");
    expect(call.info.kind).toBe("unary");
    expect(call.info.engine).toBe(testEngine());
    expect(call.info.protocol).toBe("grpc");
    expect(call.token).toBe("abc");
    expect(call.settled).toBe(true);
  });

  it("refuses a call by throwing: the client gets the mapped status and the handler never runs", async () => {
    const orderNo = await registerTracker(server);
    await expect(server.exits.getTracker({ orderNo })).rejects.toMatchObject({ code: 3, details: "x-test-token is required" });
    const { tracker } = await server.exits.getTracker({ orderNo }, { metadata: { "x-test-token": "t" } });
    expect(tracker?.orderNo).toBe(orderNo);
  });

  it("wraps a client stream until its response is ready", async () => {
    await publishTick(server, "10.5", "777");
    const call = recorder.seen.filter((entry) => entry.info.method === "PublishTicks").at(-1)!;
    expect(call.info.kind).toBe("client_streaming");
    expect(call.settled).toBe(true);
  });

  it("wraps a server stream whole: next settles only after the stream has ended", async () => {
    await publishTick(server, "20.25", "778");
    const controller = new AbortController();
    const stream = server.ticks.streamLtp(
      { instruments: [{ segment: Segment.NSE_FNO, securityId: "778" }] },
      { signal: controller.signal },
    );
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value?.ltp?.price).toBe("20.25");
    const call = recorder.seen.filter((entry) => entry.info.method === "StreamLtp").at(-1)!;
    expect(call.info.kind).toBe("server_streaming");
    expect(call.settled).toBe(false);
    controller.abort();
    await iterator.next().catch(() => undefined);
    await expect.poll(() => call.settled).toBe(true);
  });

  it("maps a handler's TradingCoreError to its status on this engine", async () => {
    await expect(
      server.exits.getTracker({ orderNo: uniqueOrderNo("absent") }, { metadata: { "x-test-token": "t" } }),
    ).rejects.toMatchObject({ code: 5 });
    const call = recorder.seen.at(-1)!;
    expect(call.failed).toBe(true);
  });
});
