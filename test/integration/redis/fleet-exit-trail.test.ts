/**
 * The fleet's audit trail with real processes: two tradingcore processes on
 * one redis-server, a watcher connected to one of them, which is restarted
 * while the other goes on exiting. The watcher resumes from its last sequence
 * on the restarted process, while exits keep being appended during its
 * replay, and ends up with every event of the fleet exactly once.
 */
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus, Segment, Side } from "../../../gen/tradingcore/v1/common_pb.js";
import { type ExitEvent, ExitService } from "../../../gen/tradingcore/v1/exit_pb.js";
import { TickService } from "../../../gen/tradingcore/v1/tick_pb.js";
import { createGrpcJsClient } from "../../../src/client/grpc-js-client.js";
import { RedisServer } from "../../support/redis-server.js";
import { startServerProcess, type ServerProcess } from "../../support/server-process.js";

const SLOW = 240_000;
const EVENTS_PER_EXIT = 3; // intent, router accepted, exited: the paper market fills at the LTP at once
type ExitClient = ReturnType<typeof createGrpcJsClient<(typeof ExitService)["method"]>>;

/** Reads a watch into `into` until it has `total` events or the stream ends; answers how it ended. */
async function collect(
  client: ExitClient,
  request: { fromSequence?: bigint; fromTime?: ReturnType<typeof timestampFromMs> },
  into: ExitEvent[],
  total: number,
  signal: AbortSignal,
) {
  try {
    for await (const { event } of client.watchExits(request, { signal })) {
      into.push(event!);
      if (into.length >= total) return "complete";
    }
    return "ended";
  } catch (error) {
    return `failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}

describe("a watcher of the fleet's audit trail across a restart of its process", () => {
  let redis: RedisServer;
  let other: ServerProcess;
  let watched: ServerProcess | undefined;
  const env = (prefix: string) => ({
    TRADINGCORE_REDIS_URL: redis.url,
    TRADINGCORE_REDIS_KEY_PREFIX: prefix,
    TRADINGCORE_LOG_LEVEL: "info",
    TRADINGCORE_LOCK_NODE_TIMEOUT_MS: "1000",
    TRADINGCORE_LTP_REDIS_HOP_TIMEOUT_MS: "2000",
  });
  const prefix = `fleet-trail-${process.pid}:`;

  beforeAll(async () => {
    redis = await RedisServer.start({ appendOnly: true });
    other = await startServerProcess(["--engine", "grpc-js"], env(prefix), 60_000);
    watched = await startServerProcess(["--engine", "grpc-js"], env(prefix), 60_000);
  }, SLOW);

  afterAll(async () => {
    await Promise.all([other, watched].filter((each) => each !== undefined).map((each) => each!.stop("SIGTERM")));
    await redis?.destroy();
  }, SLOW);

  it(
    "gets every event of both processes once, in one consecutive order",
    async () => {
      const clients: ExitClient[] = [];
      const exitsOf = (server: ServerProcess) => {
        const client = createGrpcJsClient(ExitService, server.address);
        clients.push(client);
        return client;
      };
      const exitThrough = async (server: ServerProcess, count: number, tag: string) => {
        const client = exitsOf(server);
        const ticks = createGrpcJsClient(TickService, server.address);
        await ticks.publishTicks([
          { ticks: [{ instrument: { segment: Segment.NSE_FNO, securityId: "52175" }, ltp: "104.35", time: timestampFromMs(Date.now()) }] },
        ]);
        ticks.close();
        for (let i = 0; i < count; i++) {
          const orderNo = `FLEET-${process.pid}-${tag}-${i}`;
          await client.registerTracker({
            orderNo,
            segment: Segment.NSE_FNO,
            securityId: "52175",
            symbol: "NIFTY",
            side: Side.LONG,
            quantity: "75",
            entryPrice: "101.55",
            paper: true,
          });
          const { result } = await client.executeExit({ orderNo, reason: `fleet ${tag}`, reasonCode: ExitReasonCode.SESSION_END });
          expect(ExitStatus[result!.status], orderNo).toBe("EXITED");
        }
      };
      try {
        const seen: ExitEvent[] = [];
        // Before the restart: from the start of the trail (a replay, so no race with the first exit), exits through both processes.
        const first = new AbortController();
        const firstWatch = collect(exitsOf(watched!), { fromTime: timestampFromMs(0) }, seen, Number.POSITIVE_INFINITY, first.signal);
        await Promise.all([exitThrough(other, 4, "before-other"), exitThrough(watched!, 4, "before-watched")]);
        // The restart: the watched process stops (its watch ends), the other exits on meanwhile.
        const lastBeforeStop = async () => {
          for (let waited = 0; seen.length < 8 * EVENTS_PER_EXIT && waited < 30_000; waited += 50)
            await new Promise((r) => setTimeout(r, 50));
        };
        await lastBeforeStop();
        await watched!.stop("SIGTERM");
        watched = undefined;
        expect(await firstWatch).not.toBe("complete");
        await exitThrough(other, 3, "while-down");
        const resumeAfter = seen.at(-1)!.sequence;
        watched = await startServerProcess(["--engine", "grpc-js"], env(prefix), 60_000);
        // The resume, while the other process goes on exiting during the replay.
        const total = (8 + 3 + 4) * EVENTS_PER_EXIT;
        const second = new AbortController();
        const resumed = collect(exitsOf(watched), { fromSequence: resumeAfter }, seen, total, second.signal);
        await exitThrough(other, 4, "during-replay");
        expect(await resumed).toBe("complete");
        second.abort();
        first.abort();

        const sequences = seen.map((event) => event.sequence);
        expect(sequences).toEqual(sequences.map((_, i) => BigInt(i + 1)));
        const { events: trail } = await exitsOf(other).queryExits({ pageSize: 1000 });
        expect(trail.map((event) => [event.sequence, event.kind, event.tracker?.orderNo])).toEqual(
          seen.map((event) => [event.sequence, event.kind, event.tracker?.orderNo]),
        );
        expect(new Set(seen.map((event) => event.process)).size).toBe(2);
        for (const tag of ["before-other", "before-watched", "while-down", "during-replay"]) {
          expect(seen.filter((event) => event.tracker?.exitReason === `fleet ${tag}`).length, tag).toBeGreaterThan(0);
        }
      } finally {
        for (const client of clients) client.close();
      }
    },
    SLOW,
  );
});
