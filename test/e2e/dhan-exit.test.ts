import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus, PriceSource, Segment, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { dhanRouterOn } from "../support/dhan-sim.js";
import { DhanSimulator } from "../../src/dhan-sim/dhan-simulator.js";
import { publishTick, uniqueOrderNo } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

describe("ExecuteExit through the Dhan v2 router", () => {
  // On the wall clock: each order sits in TRANSIT and PENDING for 50 ms before it trades, and the exit follows it.
  const dhan = new DhanSimulator({ delays: { pendingAfterMs: 20, tradedAfterMs: 30 }, defaultPrice: "101.05" });
  let server: TestServer;
  beforeAll(async () => {
    await dhan.start();
    const router = dhanRouterOn(dhan);
    server = await startTestServer({ adapters: { router }, config: { routerTimeoutMs: 2_000 } });
  });
  afterAll(async () => {
    await server.close();
    await dhan.stop();
  });

  async function register(side = Side.SHORT) {
    const orderNo = uniqueOrderNo("DHAN");
    await server.exits.registerTracker({
      orderNo,
      segment: Segment.NSE_EQ,
      securityId: "1333",
      symbol: "HDFCBANK",
      side,
      quantity: "20",
      entryPrice: "1600",
    });
    return orderNo;
  }

  it("exits a SHORT with one BUY order and answers EXITED at the broker's fill price, the LTP kept as the reference", async () => {
    const orderNo = await register();
    await publishTick(server, "1598.40", "1333", Segment.NSE_EQ);
    const { result } = await server.exits.executeExit({ orderNo, reason: "stop", reasonCode: ExitReasonCode.STOP_LOSS });
    expect(result?.status).toBe(ExitStatus.EXITED);
    expect(result?.exitPrice).toBe("101.05");
    expect(result?.priceSource).toBe(PriceSource.FILL);
    expect(result?.referencePrice).toBe("1598.4");
    expect(result?.tracker).toMatchObject({
      status: TrackerStatus.EXITED,
      exitedQuantity: "20",
      exitPrice: "101.05",
      referencePrice: "1598.4",
    });
    const sent = dhan.orders.all().filter((order) => order.request.correlationId === result?.correlationId);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.request.transactionType).toBe("BUY");
  });

  it("answers ROUTER_REJECTED on DH-906 and leaves the tracker ACTIVE", async () => {
    const orderNo = await register();
    dhan.nextFaults = ["reject"];
    const { result } = await server.exits.executeExit({ orderNo, reason: "stop" });
    expect(result?.status).toBe(ExitStatus.ROUTER_REJECTED);
    expect(result?.message).toContain("DH-906");
    expect(result?.tracker?.status).toBe(TrackerStatus.ACTIVE);
  });

  it("retries a rate-limited order, which was never placed, and exits with one order", async () => {
    const orderNo = await register();
    dhan.nextFaults = ["rate-limit"];
    const { result } = await server.exits.executeExit({ orderNo, reason: "stop" });
    expect(result?.status).toBe(ExitStatus.EXITED);
    expect(result?.attempts).toBe(2);
    expect(dhan.orders.all().filter((order) => order.request.correlationId === result?.correlationId)).toHaveLength(1);
  });

  it("answers OUTCOME_UNKNOWN when the connection drops after the order was sent, then resolves it by look-up without a second order", async () => {
    const orderNo = await register();
    dhan.nextFaults = ["accept-then-drop"];
    const first = (await server.exits.executeExit({ orderNo, reason: "stop" })).result;
    expect(first?.status).toBe(ExitStatus.OUTCOME_UNKNOWN);
    const ordersBefore = dhan.placedOrders;
    const retry = (await server.exits.executeExit({ orderNo, reason: "stop" })).result;
    expect(retry?.status).toBe(ExitStatus.EXITED);
    expect(retry?.priceSource).toBe(PriceSource.FILL);
    expect(retry?.exitPrice).toBe("101.05");
    expect(dhan.placedOrders).toBe(ordersBefore);
  });
});
