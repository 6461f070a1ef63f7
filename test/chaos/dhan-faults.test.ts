/**
 * A seeded fault run against the Dhan simulator: one tradingcore server on the
 * Dhan router with the order update feed, several clients racing exits of
 * every tracker, and a broker that rejects orders after accepting them, fills
 * some by half and cancels the rest, rate limits, fails with DH-908, answers
 * DH-909 after placing the order or cuts the connection after placing it.
 * The chaos suite's invariant checker then holds the final trackers and every
 * answer against the simulator's own book: no duplicate, nothing EXITED that
 * is not filled, nothing lost, nothing stuck. CHAOS_SEED picks another seed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitStatus, PriceSource, Segment, Side, type Tracker, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { DhanSimulator } from "../../src/dhan-sim/dhan-simulator.js";
import { Money } from "../../src/domain/money.js";
import { dhanRouterOn } from "../support/dhan-sim.js";
import { seededRandom } from "../../src/router/seeded-random.js";
import { uniqueOrderNo } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import type { CallRecord } from "./support/client-plan.js";
import { checkExitInvariants } from "./support/exit-invariants.js";
import type { BookOrder, BookSnapshot } from "./support/paper-book-view.js";

const SEED = Number(process.env.CHAOS_SEED ?? 19);
const TRACKERS = 40;
const CLIENTS = 3;
const ROUNDS = 3;

describe(`exits against a faulty Dhan (seed ${SEED})`, () => {
  const sim = new DhanSimulator({
    delays: { pendingAfterMs: 20, tradedAfterMs: 40 },
    seed: SEED,
    faultRate: 0.15,
    rejectRate: 0.15,
    partialRate: 0.15,
    defaultPrice: "250.35",
  });
  let server: TestServer;

  beforeAll(async () => {
    await sim.start();
    const router = dhanRouterOn(sim);
    server = await startTestServer({
      adapters: { router },
      config: {
        router: "dhan",
        dhanClientId: sim.account.clientId,
        dhanAccessToken: sim.account.accessToken,
        dhanOrderUpdateFeed: true,
        dhanOrderUpdateUrl: sim.orderUpdateUrl,
        routerTimeoutMs: 1_000,
        fillWaitMs: 1_000,
        fillPollIntervalMs: 100,
        unknownOrderGraceMs: 4_500,
        sendDeadlineMarginMs: 200,
        reconcilerIntervalMs: 100,
        reconcilerGraceMs: 300,
        reconcilerRetryBudget: 20,
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await sim.stop();
  });

  it("ends with every position exited exactly once by fills at the broker, and every answer true to it", { timeout: 120_000 }, async () => {
    const orderNos: string[] = [];
    for (let i = 0; i < TRACKERS; i++) {
      const orderNo = uniqueOrderNo("DHF");
      orderNos.push(orderNo);
      await server.exits.registerTracker({
        orderNo,
        segment: Segment.NSE_FNO,
        securityId: String(40_000 + i),
        symbol: "OPT",
        side: i % 2 ? Side.SHORT : Side.LONG,
        quantity: "75",
        entryPrice: "240",
      });
    }
    const random = seededRandom(SEED);
    const calls: CallRecord[] = [];
    const exit = async (client: number, orderNo: string, reason: string) => {
      const startedAt = Date.now();
      const { result } = await server.exits.executeExit({ orderNo, reason });
      calls.push({
        client,
        orderNo,
        address: server.address,
        startedAt,
        finishedAt: Date.now(),
        status: ExitStatus[result!.status],
        message: result!.message,
        correlationId: result!.correlationId,
        exitPrice: result!.exitPrice,
        priceSource: PriceSource[result!.priceSource],
        trackerStatus: TrackerStatus[result!.tracker?.status ?? TrackerStatus.UNSPECIFIED],
      });
    };
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        for (let round = 0; round < ROUNDS; round++) {
          for (const orderNo of [...orderNos].sort(() => random() - 0.5)) await exit(client, orderNo, `client ${client} round ${round}`);
        }
      }),
    );
    // A refusal answered ROUTER_REJECTED leaves the position open for the caller to decide: here, to ask again.
    const trackers = new Map<string, Tracker>();
    const settled = async () => {
      for (const orderNo of orderNos) trackers.set(orderNo, (await server.exits.getTracker({ orderNo })).tracker!);
      const active = [...trackers.values()].filter((tracker) => tracker.status === TrackerStatus.ACTIVE);
      for (const tracker of active) await exit(CLIENTS, tracker.orderNo, "asked again");
      return [...trackers.values()].every((tracker) => tracker.status === TrackerStatus.EXITED);
    };
    await expect.poll(settled, { timeout: 60_000, interval: 200 }).toBe(true);
    const report = checkExitInvariants({ orderNos, trackers, book: bookOf(sim, trackers), calls }, { splitFills: true });
    const answers: Record<string, number> = {};
    for (const call of calls) answers[call.status!] = (answers[call.status!] ?? 0) + 1;
    console.log(
      JSON.stringify({
        seed: SEED,
        figures: report.figures,
        answers,
        posts: sim.requests.filter((r) => r.method === "POST").length,
        alerts: sim.orderFeed.alertsSent,
        feed: server.core.dhanFeeds?.orderUpdates?.counters,
      }),
    );
    expect(report.violations).toEqual([]);
    expect(Object.keys(answers)).toEqual(expect.arrayContaining(["EXITED", "ROUTER_REJECTED", "ALREADY_EXITED"]));
    expect(report.figures.ordersPlaced).toBeGreaterThan(TRACKERS);
  });
});

/** The simulator's orders as the checker's book: each tied to its tracker by the correlation id's tracker part. */
function bookOf(sim: DhanSimulator, trackers: ReadonlyMap<string, Tracker>): BookSnapshot {
  const trackerOf = new Map<string, string>();
  for (const tracker of trackers.values()) trackerOf.set(tracker.exitCorrelationId.slice(0, 17), tracker.orderNo);
  const ordersByTracker = new Map<string, BookOrder[]>();
  for (const order of sim.orders.all()) {
    const orderNo = trackerOf.get(order.request.correlationId.slice(0, 17));
    if (!orderNo) continue;
    const state = sim.orderState(order.request.correlationId)!;
    const traded = new Money(state.tradedQuantity);
    const list = ordersByTracker.get(orderNo) ?? [];
    list.push({
      orderId: order.orderId,
      orderNo,
      correlationId: order.request.correlationId,
      status: state.status,
      quantity: new Money(order.request.quantity),
      tradedQuantity: traded,
      ...(traded.gt(0) ? { averagePrice: new Money(order.fillPrice) } : {}),
    });
    ordersByTracker.set(orderNo, list);
  }
  const acceptedByTracker = new Map([...ordersByTracker].map(([orderNo, orders]) => [orderNo, orders.length]));
  return { ordersByTracker, acceptedByTracker, totalOrders: [...ordersByTracker.values()].reduce((sum, orders) => sum + orders.length, 0) };
}
