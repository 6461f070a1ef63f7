/**
 * Exits across process boundaries: a SIGTERM while an exit is between the
 * broker's acceptance and the tracker update, and (with the Redis tracker
 * store) a kill -9 at that same point followed by a restart. The broker is a
 * local Dhan-shaped server in this test process, so its orders outlive the
 * server process and can be counted.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus, Segment, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import { createGrpcJsClient } from "../../src/client/grpc-js-client.js";
import { DhanSimulator } from "../../src/dhan-sim/dhan-simulator.js";
import { RedisServer } from "../support/redis-server.js";
import { uniqueOrderNo } from "../support/fixtures.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";
import { untilTrue } from "../support/until.js";

const PAUSE_LINE = "fault injection: exit order placed, reply held";

function dhanArgs(dhan: DhanSimulator, pauseMs: number): string[] {
  return [
    "--router",
    "dhan",
    "--dhan-base-url",
    dhan.baseUrl,
    "--dhan-client-id",
    "1000000001",
    "--fault-pause-after-order-ms",
    String(pauseMs),
    "--router-timeout-ms",
    "60000",
    "--unknown-order-grace-ms",
    "300000",
    "--reconciler-grace-ms",
    "0",
    "--reconciler-interval-ms",
    "100",
  ];
}

const DHAN_ENV = (dhan: DhanSimulator) => ({ TRADINGCORE_DHAN_ACCESS_TOKEN: dhan.account.accessToken });
const FILL_PRICE = "101.05";
/** On the wall clock: an order trades 50 ms after it is placed, as the exits here expect to see it. */
const simulator = () => new DhanSimulator({ delays: { pendingAfterMs: 20, tradedAfterMs: 30 }, defaultPrice: FILL_PRICE });
const ordersWith = (dhan: DhanSimulator, correlationId: string | undefined) =>
  dhan.orders.all().filter((order) => order.request.correlationId === correlationId);

async function registerAndExit(address: string, orderNo: string) {
  const exits = createGrpcJsClient(ExitService, address);
  await exits.registerTracker({
    orderNo,
    segment: Segment.NSE_FNO,
    securityId: "52175",
    symbol: "NIFTY",
    side: Side.LONG,
    quantity: "75",
    entryPrice: "101.55",
    paper: false,
  });
  const exiting = exits.executeExit({ orderNo, reason: "stop loss hit", reasonCode: ExitReasonCode.STOP_LOSS });
  return { exits, exiting };
}

describe("SIGTERM while an exit is between the broker's acceptance and the tracker update", () => {
  const dhan = simulator();
  let server: ServerProcess | undefined;
  beforeAll(() => dhan.start());
  afterAll(() => dhan.stop());
  afterEach(async () => {
    await server?.stop("SIGKILL");
    server = undefined;
  });

  it("finishes the exit, answers EXITED and then exits 0, with one order sent", { timeout: 120_000 }, async () => {
    server = await startServerProcess(dhanArgs(dhan, 1_500), DHAN_ENV(dhan));
    const orderNo = uniqueOrderNo("term");
    const { exits, exiting } = await registerAndExit(server.address, orderNo);
    try {
      await untilTrue(() => server!.lines.some((line) => line.includes(PAUSE_LINE)), "the order placed and its reply held");
      const code = server.stop("SIGTERM");
      const { result } = await exiting;
      expect(result?.status).toBe(ExitStatus.EXITED);
      expect(result?.tracker?.status).toBe(TrackerStatus.EXITED);
      expect(await code).toBe(0);
      expect(ordersWith(dhan, result?.correlationId)).toHaveLength(1);
    } finally {
      exits.close();
    }
  });
});

// Only a Redis-backed server keeps its trackers across a kill; the embedded store dies with the process.
describe("kill -9 between the broker's acceptance and the tracker update, then a restart", () => {
  const dhan = simulator();
  let redis: RedisServer;
  const servers: ServerProcess[] = [];
  beforeAll(async () => {
    await dhan.start();
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    for (const server of servers) await server.stop("SIGKILL");
    await dhan.stop();
    await redis.destroy();
  });

  it("leaves the tracker EXITING, and the restarted server's reconciliation marks it EXITED with one order in total", {
    timeout: 120_000,
  }, async () => {
    const redisArgs = ["--redis-url", redis.url, "--lock-ttl-ms", "2000"];
    const first = await startServerProcess([...dhanArgs(dhan, 600_000), ...redisArgs], DHAN_ENV(dhan));
    servers.push(first);
    const orderNo = uniqueOrderNo("kill");
    const { exits, exiting } = await registerAndExit(first.address, orderNo);
    exiting.catch(() => undefined); // the server dies mid-call
    await untilTrue(() => first.lines.some((line) => line.includes(PAUSE_LINE)), "the order placed and its reply held");
    await first.stop("SIGKILL");
    exits.close();

    const second = await startServerProcess([...dhanArgs(dhan, 0), ...redisArgs], DHAN_ENV(dhan));
    servers.push(second);
    const after = createGrpcJsClient(ExitService, second.address);
    try {
      let tracker = (await after.getTracker({ orderNo })).tracker!;
      for (let waited = 0; tracker.status !== TrackerStatus.EXITED; waited += 50) {
        if (waited > 30_000) throw new Error(`tracker still ${TrackerStatus[tracker.status]} after 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        tracker = (await after.getTracker({ orderNo })).tracker!;
      }
      expect(tracker.exitAttempt).toBe(1);
      expect(tracker.exitPrice).toBe(FILL_PRICE);
      expect(ordersWith(dhan, tracker.exitCorrelationId)).toHaveLength(1);
      expect(
        dhan.orders.all().filter((order) => order.request.correlationId.startsWith(tracker.exitCorrelationId.slice(0, 17))),
      ).toHaveLength(1);
    } finally {
      after.close();
    }
  });
});
