/**
 * Two tradingcore processes placing orders for one Dhan account share its
 * order budget through Redis: together they send exactly what the account
 * allows, Dhan never has to answer DH-904, and every exit past the budget
 * answers "not placed" (ROUTER_UNAVAILABLE, the position still ACTIVE),
 * never OUTCOME_UNKNOWN.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitStatus, Segment, Side, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { ExitService } from "../../../gen/tradingcore/v1/exit_pb.js";
import { createGrpcJsClient } from "../../../src/client/grpc-js-client.js";
import { instantDhanSimulator } from "../../support/dhan-sim.js";
import { RedisServer } from "../../support/redis-server.js";
import { startServerProcess, type ServerProcess } from "../../support/server-process.js";

const SLOW = 180_000;
const BUDGET = 20;
const EXITS_PER_PROCESS = 15;

describe("two tradingcore processes sharing one Dhan account's per-minute order budget", () => {
  // The account refuses (DH-904) any order past BUDGET in a minute; its per-second limit is out of the way, so that
  // only the minute's budget is in play and a DH-904 could only mean the processes overspent it between them.
  const dhan = instantDhanSimulator({ accessToken: "shared-account-token", rateLimits: { perMinute: BUDGET } });
  let redis: RedisServer;
  const processes: ServerProcess[] = [];

  beforeAll(async () => {
    [redis] = await Promise.all([RedisServer.start(), dhan.start()]);
    const env = {
      TRADINGCORE_REDIS_URL: redis.url,
      TRADINGCORE_REDIS_KEY_PREFIX: `dhan-shared-${process.pid}:`,
      TRADINGCORE_ROUTER: "dhan",
      TRADINGCORE_DHAN_BASE_URL: dhan.baseUrl,
      TRADINGCORE_DHAN_CLIENT_ID: "1000000001",
      TRADINGCORE_DHAN_ACCESS_TOKEN: dhan.account.accessToken,
      TRADINGCORE_DHAN_ORDER_RATE_LIMITS: `10/s,${BUDGET}/m`,
      TRADINGCORE_LOG_LEVEL: "info",
      TRADINGCORE_LOCK_NODE_TIMEOUT_MS: "1000",
    };
    for (let i = 0; i < 2; i++) processes.push(await startServerProcess(["--engine", "grpc-js"], env, 60_000));
  }, SLOW);

  afterAll(async () => {
    await Promise.all(processes.map((server) => server.stop("SIGTERM")));
    await Promise.all([redis?.destroy(), dhan.stop()]);
  }, SLOW);

  it(
    "sends exactly the budget between them, none refused by Dhan, and answers every other exit not placed",
    async () => {
      for (const server of processes) {
        expect(server.lines.some((line) => line.includes(`order rate limits 10/s,${BUDGET}/m shared in redis`))).toBe(true);
      }
      const clients = processes.map((server) => createGrpcJsClient(ExitService, server.address));
      try {
        const orderNos = Array.from({ length: 2 * EXITS_PER_PROCESS }, (_, i) => `SHARED-${process.pid}-${i}`);
        for (const orderNo of orderNos) {
          await clients[0]!.registerTracker({
            orderNo,
            segment: Segment.NSE_EQ,
            securityId: "1333",
            symbol: "HDFCBANK",
            side: Side.LONG,
            quantity: "1",
            entryPrice: "1600",
          });
        }
        const results = await Promise.all(
          orderNos.map(async (orderNo, i) => (await clients[i % 2]!.executeExit({ orderNo, reason: "session end" })).result!),
        );
        const byStatus = (status: ExitStatus) => results.filter((result) => result.status === status);
        expect(dhan.orderPosts).toBe(BUDGET);
        expect(dhan.rateLimitedPosts).toBe(0);
        expect(dhan.placedOrders).toBe(BUDGET);
        expect(byStatus(ExitStatus.EXITED)).toHaveLength(BUDGET);
        expect(byStatus(ExitStatus.ROUTER_UNAVAILABLE)).toHaveLength(2 * EXITS_PER_PROCESS - BUDGET);
        expect(byStatus(ExitStatus.OUTCOME_UNKNOWN)).toHaveLength(0);
        for (const result of byStatus(ExitStatus.ROUTER_UNAVAILABLE)) {
          expect(result.message).toMatch(/rate limit/);
          expect(result.tracker?.status ?? TrackerStatus.ACTIVE).toBe(TrackerStatus.ACTIVE);
        }
        // Both processes placed orders: the budget was shared, not one process's alone.
        const placedBy = new Set(results.flatMap((result, i) => (result.status === ExitStatus.EXITED ? [i % 2] : [])));
        expect(placedBy.size).toBe(2);
      } finally {
        for (const client of clients) client.close();
      }
    },
    SLOW,
  );
});
