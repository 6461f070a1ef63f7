import { afterEach, describe, expect, it, vi } from "vitest";
import { BrokerOrderStatus } from "../../../gen/tradingcore/v1/exit_pb.js";
import { DhanOrderUpdateFeed } from "../../../src/dhan-feeds/dhan-order-update-feed.js";
import { DhanSimulator } from "../../../src/dhan-sim/dhan-simulator.js";
import { ManualSimClock } from "../../../src/dhan-sim/sim-clock.js";
import { exitCorrelationId } from "../../../src/domain/exit-correlation-id.js";
import type { OrderUpdate } from "../../../src/exit/order-update-change.js";
import type { OrderUpdateSink } from "../../../src/exit/ports.js";
import { MemoryLog } from "../exit/exit-world.js";

class RecordingSink implements OrderUpdateSink {
  readonly applied: { update: OrderUpdate; owe: boolean | undefined }[] = [];
  async apply(update: OrderUpdate, options?: { readonly owe?: boolean }) {
    this.applied.push({ update, owe: options?.owe });
    return { applied: true };
  }
}

let sim: DhanSimulator;
let feed: DhanOrderUpdateFeed;
afterEach(async () => {
  await feed?.stop();
  await sim?.stop();
});

async function start(waiting: (correlationId: string) => boolean = () => false) {
  sim = await new DhanSimulator({ clock: new ManualSimClock(), delays: { pendingAfterMs: 100, tradedAfterMs: 100 } }).start();
  const sink = new RecordingSink();
  const recoveries: number[] = [];
  const log = new MemoryLog();
  feed = new DhanOrderUpdateFeed(
    {
      url: sim.orderUpdateUrl,
      clientId: sim.account.clientId,
      token: () => sim.account.accessToken,
      reconnectInitialMs: 20,
      reconnectMaxMs: 100,
      silenceMs: 5_000,
      pingIntervalMs: 1_000,
    },
    sink,
    async () => {
      recoveries.push(Date.now());
      return 0;
    },
    () => 0,
    log,
    waiting,
  );
  feed.start();
  await vi.waitFor(() => expect(sim.orderFeed.clients).toBe(1));
  return { sink, recoveries, log };
}

async function place(correlationId: string) {
  const response = await fetch(`${sim.baseUrl}/v2/orders`, {
    method: "POST",
    headers: { "access-token": sim.account.accessToken, "content-type": "application/json" },
    body: JSON.stringify({
      correlationId,
      transactionType: "SELL",
      exchangeSegment: "NSE_FNO",
      productType: "MARGIN",
      orderType: "MARKET",
      validity: "DAY",
      securityId: "52175",
      quantity: 75,
    }),
  });
  expect(response.status).toBe(200);
}

const ours = (attempt: number) => exitCorrelationId({ orderNo: "ENTRY-7", createdAt: 1_764_650_000_000 }, attempt);

describe("DhanOrderUpdateFeed against the simulator", () => {
  it("applies every alert of an exit order in arrival order, and looks the live exit orders up once connected", async () => {
    const { sink, recoveries } = await start();
    await place(ours(1));
    sim.advance(100);
    sim.advance(100);
    await vi.waitFor(() =>
      expect(sink.applied.map((entry) => entry.update.status)).toEqual([
        BrokerOrderStatus.TRANSIT,
        BrokerOrderStatus.PENDING,
        BrokerOrderStatus.TRADED,
      ]),
    );
    expect(sink.applied[2]!.update).toMatchObject({ correlationId: ours(1), tradedQuantity: expect.anything() });
    expect(sink.applied[2]!.update.tradedQuantity?.toFixed()).toBe("75");
    expect(recoveries).toHaveLength(1);
  });

  it("leaves a refusal to the exit waiting on its order, and owes the reconciler one no exit waits on", async () => {
    const { sink } = await start((correlationId) => correlationId === ours(1));
    sim.nextOutcomes = ["reject", "reject"];
    await place(ours(1));
    await place(ours(2));
    sim.advance(100);
    await vi.waitFor(() => expect(sink.applied.filter((entry) => entry.update.status === BrokerOrderStatus.REJECTED)).toHaveLength(2));
    const rejected = sink.applied.filter((entry) => entry.update.status === BrokerOrderStatus.REJECTED);
    expect(rejected.map((entry) => [entry.update.correlationId, entry.owe])).toEqual([
      [ours(1), false],
      [ours(2), true],
    ]);
  });

  it("reconnects after the connection is cut and looks the live exit orders up again", async () => {
    const { recoveries } = await start();
    sim.orderFeed.dropAll();
    await vi.waitFor(() => expect(feed.opens).toBe(2));
    await vi.waitFor(() => expect(recoveries).toHaveLength(2));
    expect(sim.orderFeed.clients).toBe(1);
  });

  it("keeps trying while its token is refused, logging the refusal as an error, and logs in with the renewed token", async () => {
    const { log } = await start();
    sim.account.expireToken();
    sim.orderFeed.dropAll();
    await vi.waitFor(() => expect(feed.opens).toBeGreaterThanOrEqual(3));
    expect(sim.orderFeed.clients).toBe(0);
    expect(log.lines.some((line) => line.level === "error" && line.message.includes("refusal"))).toBe(true);
    expect(JSON.stringify(log.lines)).not.toContain(sim.account.accessToken);
    sim.account.renewToken("renewed-token");
    await vi.waitFor(() => expect(sim.orderFeed.clients).toBe(1), { timeout: 10_000 });
  });
});
