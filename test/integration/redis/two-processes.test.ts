/**
 * Two tradingcore processes on the same Redis (tracker store, tick cache and
 * paper order book) and the same three Redlock nodes, with many clients
 * exiting the same trackers at once through both: exactly one order per
 * tracker, counted across processes in the shared paper order book.
 */
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus, PriceSource, Segment, Side, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { ExitService } from "../../../gen/tradingcore/v1/exit_pb.js";
import { TickService } from "../../../gen/tradingcore/v1/tick_pb.js";
import { createGrpcJsClient } from "../../../src/client/grpc-js-client.js";
import { RedisPaperOrderBook } from "../../../src/router/redis-paper-order-book.js";
import { createRedisTrackerClient, type RedisTrackerClient } from "../../../src/store/redis-tracker-client.js";
import { RedisServer, startRedisServers } from "../../support/redis-server.js";
import { startServerProcess, type ServerProcess } from "../../support/server-process.js";

const SLOW = 180_000;
const TRACKERS = 12;
const CLIENTS_PER_PROCESS = 4;
const exitRequest = (orderNo: string) => ({ orderNo, reason: "session end", reasonCode: ExitReasonCode.SESSION_END });

describe("two tradingcore processes on one Redis", () => {
  let redis: RedisServer;
  let lockNodes: RedisServer[];
  const processes: ServerProcess[] = [];
  let inspector: RedisTrackerClient;
  const prefix = `two-processes-${process.pid}:`;

  beforeAll(async () => {
    [redis, lockNodes] = await Promise.all([RedisServer.start({ appendOnly: true }), startRedisServers(3)]);
    const env = {
      TRADINGCORE_REDIS_URL: redis.url,
      TRADINGCORE_REDIS_LOCK_URLS: lockNodes.map((node) => node.url).join(","),
      TRADINGCORE_REDIS_KEY_PREFIX: prefix,
      TRADINGCORE_LOG_LEVEL: "info",
      // Generous: the box running the tests is shared and slow; a lock node answer may take long.
      TRADINGCORE_LOCK_NODE_TIMEOUT_MS: "1000",
      // The Redis LTP hop is bounded at 250 ms by default; a loaded 2-core machine can exceed even that.
      TRADINGCORE_LTP_REDIS_HOP_TIMEOUT_MS: "2000",
    };
    // One at a time, so a process that did start is stopped by afterAll even if the other fails to.
    for (let i = 0; i < 2; i++) processes.push(await startServerProcess(["--engine", "grpc-js"], env, 60_000));
    inspector = createRedisTrackerClient(redis.url);
    await inspector.connect();
  }, SLOW);

  afterAll(async () => {
    await Promise.all(processes.map((server) => server.stop("SIGTERM")));
    if (inspector?.isOpen) inspector.destroy();
    await Promise.all([redis, ...(lockNodes ?? [])].filter(Boolean).map((server) => server.destroy()));
  }, SLOW);

  it(
    "sends exactly one order per tracker however many clients exit it through either process",
    async () => {
      const [first, second] = processes as [ServerProcess, ServerProcess];
      const registrar = createGrpcJsClient(ExitService, first.address);
      const feed = createGrpcJsClient(TickService, second.address);
      const clients = processes.flatMap((server) =>
        Array.from({ length: CLIENTS_PER_PROCESS }, () => createGrpcJsClient(ExitService, server.address)),
      );
      try {
        const orderNos = Array.from({ length: TRACKERS }, (_, i) => `TWO-${process.pid}-${i}`);
        for (const orderNo of orderNos) {
          await registrar.registerTracker({
            orderNo,
            segment: Segment.NSE_FNO,
            securityId: "52175",
            symbol: "NIFTY",
            side: Side.LONG,
            quantity: "75",
            entryPrice: "101.55",
            paper: true,
          });
        }
        await feed.publishTicks([
          { ticks: [{ instrument: { segment: Segment.NSE_FNO, securityId: "52175" }, ltp: "104.35", time: timestampFromMs(Date.now()) }] },
        ]);
        // Ticks reach Redis write-behind: wait until the other process sees it before exiting through both.
        await waitForLtp(first.address, "104.35");

        const results = await Promise.all(clients.flatMap((client) => orderNos.map((orderNo) => client.executeExit(exitRequest(orderNo)))));
        const statuses = results.map(({ result }) => result?.status);
        const expected = [ExitStatus.EXITED, ExitStatus.ALREADY_EXITED, ExitStatus.EXIT_IN_PROGRESS];
        expect(statuses.filter((status) => !expected.includes(status!)).map((status) => ExitStatus[status!])).toEqual([]);

        const book = new RedisPaperOrderBook(inspector, prefix);
        for (const orderNo of orderNos) {
          const exitedAnswers = results.filter(({ result }) => result?.tracker?.orderNo === orderNo && result.status === ExitStatus.EXITED);
          expect(exitedAnswers, orderNo).toHaveLength(1);
          expect(await book.acceptedFor(orderNo), orderNo).toBe(1);
          const { tracker } = await createGrpcJsClient(ExitService, second.address).getTracker({ orderNo });
          expect(tracker?.status, orderNo).toBe(TrackerStatus.EXITED);
          expect(tracker?.exitPrice, orderNo).toBe("104.35");
        }
        const exited = results.filter(({ result }) => result?.status === ExitStatus.EXITED).map(({ result }) => result!);
        expect(
          exited
            .filter((result) => result.priceSource !== PriceSource.FILL || result.referencePrice !== "104.35")
            .map((result) => `${PriceSource[result.priceSource]} ${result.referencePrice}`),
        ).toEqual([]);

        const again = await Promise.all(orderNos.map((orderNo) => clients[0]!.executeExit(exitRequest(orderNo))));
        expect(again.map(({ result }) => `${ExitStatus[result!.status]} ${result!.message}`)).toEqual(
          orderNos.map(() => "ALREADY_EXITED tracker was already exited"),
        );
        for (const orderNo of orderNos) expect(await book.acceptedFor(orderNo), orderNo).toBe(1);
      } finally {
        for (const client of [registrar, feed, ...clients]) client.close();
      }
    },
    SLOW,
  );
});

/** Polls GetLtp on `address` until it answers `price` (bounded: 20 s). */
async function waitForLtp(address: string, price: string): Promise<void> {
  const ticks = createGrpcJsClient(TickService, address);
  try {
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
      const { ltp } = await ticks.getLtp({ instrument: { segment: Segment.NSE_FNO, securityId: "52175" } });
      if (ltp?.price === price) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the tick never reached ${address} through Redis`);
  } finally {
    ticks.close();
  }
}
