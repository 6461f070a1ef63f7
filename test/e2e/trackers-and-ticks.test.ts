import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { ExitStatus, PriceSource, Segment, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { publishTick, registerTracker, uniqueOrderNo } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

describe("trackers and ticks over gRPC", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: { ltpStaleAfterMs: 60_000, fillWaitMs: 200 } });
  });
  afterAll(() => server.close());

  it("reports SERVING on grpc.health.v1 Check", async () => {
    const answer = await server.health.check({ service: "" });
    expect(answer.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await server.health.check({ service: "tradingcore.v1.ExitService" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });

  it("registers idempotently: the same fields again answer created=false and the same tracker", async () => {
    const request = {
      orderNo: uniqueOrderNo(),
      segment: Segment.BSE_EQ,
      securityId: "500180",
      symbol: "HDFCBANK",
      side: Side.SHORT,
      quantity: "3",
      entryPrice: "1650.05",
      meta: { strategy: "mean-revert" },
    };
    const first = await server.exits.registerTracker(request);
    const second = await server.exits.registerTracker(request);
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.tracker).toEqual(first.tracker);
    expect(first.tracker?.status).toBe(TrackerStatus.ACTIVE);
    expect(first.tracker?.version).toBe(1n);
    expect(first.tracker?.meta).toEqual({ strategy: "mean-revert" });
  });

  it("lists trackers by status and segment, page by page, with nothing repeated or lost", async () => {
    const segment = Segment.MCX_COMM;
    const orderNos = [];
    for (let i = 0; i < 7; i++)
      orderNos.push(await registerTracker(server, { orderNo: uniqueOrderNo("LIST"), segment, securityId: "4242" }));
    await server.exits.executeExit({ orderNo: orderNos[0]!, reason: "done" });
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await server.exits.listTrackers({ segment, status: TrackerStatus.ACTIVE, pageSize: 2, pageToken });
      expect(page.trackers.length).toBeLessThanOrEqual(2);
      seen.push(...page.trackers.map((tracker) => tracker.orderNo));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(seen).toEqual(orderNos.slice(1).sort());
  });

  it("answers GetLtp from memory with the instrument, tick time and age, and NONE for an unknown instrument", async () => {
    const tickMs = Date.now() - 1_500;
    await publishTick(server, "2450.85", "2885", Segment.NSE_EQ, tickMs);
    const { ltp } = await server.ticks.getLtp({ instrument: { segment: Segment.NSE_EQ, securityId: "2885" } });
    expect(ltp).toMatchObject({ found: true, price: "2450.85", source: PriceSource.MEMORY, stale: false });
    expect(ltp?.instrument).toMatchObject({ segment: Segment.NSE_EQ, securityId: "2885" });
    expect(ltp?.tickTime && timestampMs(ltp.tickTime)).toBe(tickMs);
    const ageMs = Number(ltp?.age?.seconds ?? -1n) * 1000 + (ltp?.age?.nanos ?? 0) / 1e6;
    expect(ageMs).toBeGreaterThanOrEqual(1_500);
    expect(ageMs).toBeLessThan(60_000);
    const missing = await server.ticks.getLtp({ instrument: { segment: Segment.NSE_EQ, securityId: "no-such" } });
    expect(missing.ltp).toMatchObject({ found: false, source: PriceSource.NONE, price: "" });
    expect(missing.ltp?.age).toBeUndefined();
    expect(missing.ltp?.tickTime).toBeUndefined();
  });

  it("flags a stale tick on GetLtps, in request order", async () => {
    await publishTick(server, "10.5", "S-OLD", Segment.NSE_EQ, Date.now() - 120_000);
    await publishTick(server, "11.5", "S-NEW", Segment.NSE_EQ);
    const { ltps } = await server.ticks.getLtps({
      instruments: [
        { segment: Segment.NSE_EQ, securityId: "S-OLD" },
        { segment: Segment.NSE_EQ, securityId: "S-NEW" },
      ],
    });
    expect(ltps.map((ltp) => [ltp.price, ltp.stale])).toEqual([
      ["10.5", true],
      ["11.5", false],
    ]);
  });

  it("streams the current LTP, then each newer one", async () => {
    const instrument = { segment: Segment.NSE_CURRENCY, securityId: "USDINR" };
    await server.ticks.publishTicks([{ ticks: [{ instrument, ltp: "83.1025", time: timestampFromMs(Date.now()) }] }]);
    const controller = new AbortController();
    const seen: string[] = [];
    const stream = server.ticks.streamLtp({ instruments: [instrument] }, { signal: controller.signal });
    const reading = (async () => {
      try {
        for await (const message of stream) {
          seen.push(message.ltp!.price);
          if (seen.length === 1) await server.ticks.publishTicks([{ ticks: [{ instrument, ltp: "83.1050" }] }]);
          if (seen.length === 2) controller.abort();
        }
      } catch {
        // cancelled by us
      }
    })();
    await reading;
    expect(seen).toEqual(["83.1025", "83.105"]);
  });

  it("sends the order with price source NONE when no tick is known, answers AWAITING_FILL, and the next tick fills it", async () => {
    const orderNo = await registerTracker(server, { securityId: "never-ticked", ltp: null });
    const { result } = await server.exits.executeExit({ orderNo, reason: "session end" });
    expect(result?.status).toBe(ExitStatus.AWAITING_FILL);
    expect(result?.priceSource).toBe(PriceSource.NONE);
    expect(result?.exitPrice).toBe("");
    expect(result?.referencePrice).toBe("");
    expect(result?.tracker?.status).toBe(TrackerStatus.EXITING);
    await publishTick(server, "7.25", "never-ticked");
    await server.paper.whenTicksApplied();
    const { tracker } = await server.exits.getTracker({ orderNo });
    expect(tracker).toMatchObject({ status: TrackerStatus.EXITED, exitPrice: "7.25", exitedQuantity: "75" });
    const again = (await server.exits.executeExit({ orderNo, reason: "session end" })).result;
    expect(again?.status).toBe(ExitStatus.ALREADY_EXITED);
    expect(server.paper.ordersFor(orderNo)).toBe(1);
  });

  it("flags a stale exit price in the ExitResult", async () => {
    const orderNo = await registerTracker(server, { securityId: "stale-1", ltp: null });
    await publishTick(server, "5.05", "stale-1", Segment.NSE_FNO, Date.now() - 300_000);
    const { result } = await server.exits.executeExit({ orderNo, reason: "time stop" });
    expect(result?.priceStale).toBe(true);
    expect(Number(result?.priceAge?.seconds)).toBeGreaterThanOrEqual(300);
  });

  it("keeps prices exact end to end: what goes in as a decimal string comes out unchanged", async () => {
    const ltp = "123456789.123456789";
    const orderNo = await registerTracker(server, { securityId: "exact", entryPrice: "0.000000001", quantity: "1234567.89" });
    await publishTick(server, ltp, "exact");
    const { result } = await server.exits.executeExit({ orderNo, reason: "exactness" });
    expect(result?.exitPrice).toBe(ltp);
    expect(result?.tracker?.exitPrice).toBe(ltp);
    expect(result?.tracker?.entryPrice).toBe("0.000000001");
    expect(result?.tracker?.quantity).toBe("1234567.89");
    expect(result?.tracker?.exitedQuantity).toBe("1234567.89");
  });
});
