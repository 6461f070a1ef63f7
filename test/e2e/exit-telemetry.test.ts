import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { Histogram } from "@opentelemetry/sdk-metrics";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus, Segment, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { publishTick, registerTracker, uniqueOrderNo } from "../support/fixtures.js";
import { startRecordingTelemetry, type RecordingTelemetry } from "../support/recording-telemetry.js";
import { startTestServer, testEngine, type TestServer } from "../support/test-server.js";

const exitRequest = (orderNo: string) => ({ orderNo, reason: "stop loss hit", reasonCode: ExitReasonCode.STOP_LOSS });

/** The lock, the store writes and the router call; the request check, the tracker read and the LTP look-up get no span. */
const STEP_SPANS = ["exit.lock.acquire", "exit.intent.persist", "exit.router.call", "exit.tracker.update", "exit.lock.release"];

const CALLER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN_ID = "00f067aa0ba902b7";

let recording: RecordingTelemetry;
let server: TestServer;
beforeAll(async () => {
  recording = startRecordingTelemetry();
  server = await startTestServer({ adapters: { telemetry: recording.telemetry }, config: { fillWaitMs: 100 } });
});
afterAll(async () => {
  await server.close();
  await recording.shutdown();
});

async function serverSpan(method: string, predicate: (span: ReadableSpan) => boolean = () => true): Promise<ReadableSpan> {
  await recording.flush();
  const spans = recording.spans
    .getFinishedSpans()
    .filter((span) => span.name === method && span.kind === SpanKind.SERVER && predicate(span));
  expect(spans).toHaveLength(1);
  return spans[0]!;
}

const forOrder = (orderNo: string) => (span: ReadableSpan) => span.attributes.order_no === orderNo;

describe(`one ExecuteExit traced on the ${testEngine()} engine`, () => {
  let orderNo: string;
  beforeAll(async () => {
    orderNo = await registerTracker(server, { securityId: "4401" });
    await publishTick(server, "104.35", "4401");
    const { result } = await server.exits.executeExit(exitRequest(orderNo));
    expect(result?.status).toBe(ExitStatus.EXITED);
  });

  it("has a SERVER span named ExecuteExit with order_no, exit.status, the LTP it priced on and the rpc attributes", async () => {
    const span = await serverSpan("ExecuteExit", forOrder(orderNo));
    expect(span.attributes).toMatchObject({
      order_no: orderNo,
      "exit.status": "EXITED",
      "ltp.source": "MEMORY",
      "ltp.stale": false,
      "rpc.system": "grpc",
      "rpc.service": "tradingcore.v1.ExitService",
      "rpc.method": "ExecuteExit",
      "rpc.grpc.status_code": 0,
      "tradingcore.engine": testEngine(),
    });
    expect(typeof span.attributes["ltp.age_ms"]).toBe("number");
    expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it("has every exit step as a child of the server span, in the order the flow runs them", async () => {
    const parent = await serverSpan("ExecuteExit", forOrder(orderNo));
    const children = recording
      .spansOf(parent.spanContext().traceId)
      .filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId)
      .sort((a, b) => (a.startTime[0] - b.startTime[0]) * 1e9 + (a.startTime[1] - b.startTime[1]));
    expect(children.map((span) => span.name)).toEqual(STEP_SPANS);
  });

  it("puts the lock and router facts on their step spans", async () => {
    const traceId = (await serverSpan("ExecuteExit", forOrder(orderNo))).spanContext().traceId;
    const step = (name: string) => recording.spansOf(traceId).find((span) => span.name === name)!;
    expect(step("exit.lock.acquire").attributes).toMatchObject({ "lock.attempts": 1, "lock.result": "acquired" });
    expect(step("exit.router.call").attributes).toMatchObject({ "router.outcome": "accepted" });
    expect(step("exit.lock.release").attributes).toMatchObject({ "lock.release": "released" });
  });

  it("starts a new trace when the caller sends no traceparent", async () => {
    expect((await serverSpan("ExecuteExit", forOrder(orderNo))).parentSpanContext).toBeUndefined();
  });
});

describe(`trace continuation on the ${testEngine()} engine`, () => {
  it("continues the caller's W3C traceparent: same trace id, the caller's span as parent", async () => {
    const orderNo = await registerTracker(server);
    await server.exits.executeExit(exitRequest(orderNo), { metadata: { traceparent: `00-${CALLER_TRACE_ID}-${CALLER_SPAN_ID}-01` } });
    const span = await serverSpan("ExecuteExit", forOrder(orderNo));
    expect(span.spanContext().traceId).toBe(CALLER_TRACE_ID);
    expect(span.parentSpanContext?.spanId).toBe(CALLER_SPAN_ID);
    expect(span.parentSpanContext?.isRemote).toBe(true);
  });

  it("records a failed call's status code and error on its span, with the public message only", async () => {
    const missing = uniqueOrderNo("absent");
    await expect(server.exits.getTracker({ orderNo: missing })).rejects.toMatchObject({ code: 5 });
    const span = await serverSpan("GetTracker", (candidate) => String(candidate.status.message).includes(missing));
    expect(span.attributes["rpc.grpc.status_code"]).toBe(5);
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.events.map((event) => event.name)).toContain("exception");
  });
});

describe(`exit metrics on the ${testEngine()} engine`, () => {
  const countOf = async (metric: string, attributes: Record<string, unknown>) => {
    const points = await recording.points(metric);
    const matching = points.filter((point) => Object.entries(attributes).every(([key, value]) => point.attributes[key] === value));
    return matching.reduce((sum, point) => sum + (typeof point.value === "number" ? point.value : (point.value as Histogram).count), 0);
  };

  it("counts exits per status, and times each one", async () => {
    const before = {
      exited: await countOf("tradingcore.exits", { "exit.status": "EXITED", "exit.path": "execute" }),
      missing: await countOf("tradingcore.exits", { "exit.status": "TRACKER_NOT_FOUND" }),
      invalid: await countOf("tradingcore.exits", { "exit.status": "INVALID_REQUEST" }),
      timed: await countOf("tradingcore.exit.duration", {}),
    };
    for (let i = 0; i < 3; i++) await server.exits.executeExit(exitRequest(await registerTracker(server)));
    await server.exits.executeExit(exitRequest(uniqueOrderNo("missing")));
    await server.exits.executeExit({ orderNo: "", reason: "x" });

    expect(await countOf("tradingcore.exits", { "exit.status": "EXITED", "exit.path": "execute" })).toBe(before.exited + 3);
    expect(await countOf("tradingcore.exits", { "exit.status": "TRACKER_NOT_FOUND" })).toBe(before.missing + 1);
    expect(await countOf("tradingcore.exits", { "exit.status": "INVALID_REQUEST" })).toBe(before.invalid + 1);
    expect(await countOf("tradingcore.exit.duration", {})).toBe(before.timed + 5);
    expect(await countOf("tradingcore.exits.in_flight", {})).toBe(0);
  });

  it("times lock acquisitions and counts LTP look-ups by source and staleness", async () => {
    const lockBefore = await countOf("tradingcore.lock.acquire.duration", { "lock.result": "acquired" });
    const memoryBefore = await countOf("tradingcore.ltp.lookups", { "ltp.source": "MEMORY", "ltp.stale": false });
    const noneBefore = await countOf("tradingcore.ltp.lookups", { "ltp.source": "NONE" });
    const priced = await registerTracker(server, { securityId: "4402", ltp: "55.5" });
    await server.exits.executeExit(exitRequest(priced));
    await server.exits.executeExit(exitRequest(await registerTracker(server, { securityId: "no-ticks", ltp: null })));

    expect(await countOf("tradingcore.lock.acquire.duration", { "lock.result": "acquired" })).toBe(lockBefore + 2);
    expect(await countOf("tradingcore.ltp.lookups", { "ltp.source": "MEMORY", "ltp.stale": false })).toBe(memoryBefore + 1);
    expect(await countOf("tradingcore.ltp.lookups", { "ltp.source": "NONE" })).toBe(noneBefore + 1);
  });
});

describe(`ExitAll traced on the ${testEngine()} engine`, () => {
  it("gives each exit its own exit.all.item span, child of the ExitAll server span, with its steps beneath", async () => {
    const own = await startTestServer({ adapters: { telemetry: recording.telemetry } });
    try {
      const orderNos = [await registerTracker(own), await registerTracker(own)];
      const results = [];
      for await (const response of own.exits.exitAll({ reason: "session end", reasonCode: ExitReasonCode.SESSION_END }))
        results.push(response.result);
      expect(results.map((result) => result?.status)).toEqual([ExitStatus.EXITED, ExitStatus.EXITED]);

      const exitAll = await serverSpan(
        "ExitAll",
        (span) => span.attributes["tradingcore.engine"] === testEngine() && span.spanContext().traceId === itemsTrace(orderNos[0]!),
      );
      const items = recording.spans
        .getFinishedSpans()
        .filter((span) => span.name === "exit.all.item" && orderNos.includes(String(span.attributes.order_no)));
      expect(items).toHaveLength(2);
      for (const item of items) {
        expect(item.parentSpanContext?.spanId).toBe(exitAll.spanContext().spanId);
        expect(item.attributes["exit.status"]).toBe("EXITED");
        const steps = recording
          .spansOf(item.spanContext().traceId)
          .filter((span) => span.parentSpanContext?.spanId === item.spanContext().spanId);
        expect(steps.map((span) => span.name)).toContain("exit.router.call");
      }
    } finally {
      await own.close();
    }
  });
});

/** The trace id of the exit.all.item span of `orderNo`. */
function itemsTrace(orderNo: string): string {
  return recording.spans
    .getFinishedSpans()
    .find((span) => span.name === "exit.all.item" && span.attributes.order_no === orderNo)!
    .spanContext().traceId;
}

describe(`a protective exit traced on the ${testEngine()} engine`, () => {
  it("runs under a protection.trigger span carrying the trigger, with the exit's step spans as its children", async () => {
    const orderNo = uniqueOrderNo("TRACED-PLAN");
    await publishTick(server, "100", "4402");
    await server.exits.registerTracker({
      orderNo,
      segment: Segment.NSE_FNO,
      securityId: "4402",
      symbol: "NIFTY",
      side: Side.LONG,
      quantity: "75",
      entryPrice: "100",
      paper: true,
      exitPlan: { stopLoss: { level: { case: "price", value: "98" } } },
    });
    await publishTick(server, "97.5", "4402");
    for (let i = 0; i < 500; i++) {
      if ((await server.exits.getTracker({ orderNo })).tracker?.status === TrackerStatus.EXITED) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await recording.flush();
    const [trigger] = recording.spans
      .getFinishedSpans()
      .filter((span) => span.name === "protection.trigger" && span.attributes.order_no === orderNo);
    expect(trigger?.attributes).toMatchObject({
      order_no: orderNo,
      "trigger.rule": "STOP_LOSS",
      "trigger.level": "98",
      "trigger.tick_price": "97.5",
      "trigger.plan_version": 1,
      "exit.status": "EXITED",
    });
    const children = recording.spansOf(trigger!.spanContext().traceId).filter((span) => span !== trigger);
    expect(children.map((span) => span.name)).toEqual(expect.arrayContaining(["exit.intent.persist", "exit.router.call"]));
  });
});
