import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { ExitStatus, Segment, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import { TickService } from "../../gen/tradingcore/v1/tick_pb.js";
import { createGrpcJsClient } from "../../src/client/grpc-js-client.js";
import { registerTracker, uniqueOrderNo } from "../support/fixtures.js";
import { HeldRouter } from "../support/held-router.js";
import { startServerProcess } from "../support/server-process.js";
import { startTestServer } from "../support/test-server.js";

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => grpc.status.OK,
    (error: grpc.ServiceError) => error.code,
  );

interface Drained<T> {
  readonly messages: T[];
  readonly code: number;
  readonly details: string;
}

/** Opens a server stream and waits for its first message; `rest` reads it to its end and the status it ended with. */
async function opened<T>(stream: AsyncIterable<T>): Promise<{ first: T; rest: Promise<Drained<T>> }> {
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) throw new Error("the stream ended before its first message");
  const rest = (async () => {
    const messages = [first.value];
    try {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) messages.push(next.value);
      return { messages, code: grpc.status.OK, details: "" };
    } catch (error) {
      const { code, details } = error as grpc.ServiceError;
      return { messages, code, details };
    }
  })();
  return { first: first.value, rest };
}

describe("Shutdown of a server with an exit in flight and streams open", () => {
  it("refuses new calls, lets the exit finish, sends NOT_SERVING to watchers and ends streams with UNAVAILABLE", {
    timeout: 60_000,
  }, async () => {
    const router = new HeldRouter();
    const server = await startTestServer({ config: { routerTimeoutMs: 60_000, shutdownGraceMs: 20_000 }, adapters: { router } });
    const orderNo = await registerTracker(server);
    const watch = await opened(server.health.watch({ service: ExitService.typeName }));
    const ltp = await opened(server.ticks.streamLtp({ instruments: [{ segment: Segment.NSE_FNO, securityId: "52175" }] }));
    const exit = server.exits.executeExit({ orderNo, reason: "session end" });
    await router.untilHeld(1);

    const stopped = server.core.stop();
    expect(await codeOf(server.exits.getTracker({ orderNo }))).toBe(grpc.status.UNAVAILABLE);
    router.release();

    expect((await exit).result?.status).toBe(ExitStatus.EXITED);
    await stopped;
    const watched = await watch.rest;
    expect(watched.messages.map((message) => message.status)).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    expect(watched.code).toBe(grpc.status.UNAVAILABLE);
    const streamed = await ltp.rest;
    expect(streamed.code).toBe(grpc.status.UNAVAILABLE);
    expect(streamed.details).toMatch(/shutting down/);
    await server.close();
  });
});

describe("SIGTERM to a tradingcore process with exits in flight", () => {
  it("loses none: every exit answers EXITED and the process exits 0", { timeout: 120_000 }, async () => {
    const server = await startServerProcess(["--paper-latency-ms", "1500", "--log-level", "info"]);
    const exits = createGrpcJsClient(ExitService, server.address);
    const ticks = createGrpcJsClient(TickService, server.address);
    try {
      const orderNos = Array.from({ length: 8 }, () => uniqueOrderNo("term"));
      for (const orderNo of orderNos) {
        await exits.registerTracker({
          orderNo,
          segment: Segment.NSE_FNO,
          securityId: "52175",
          side: Side.LONG,
          quantity: "75",
          entryPrice: "101.55",
          paper: true,
        });
      }
      // An LTP, so the paper market fills each order at once.
      await ticks.publishTicks([{ ticks: [{ instrument: { segment: Segment.NSE_FNO, securityId: "52175" }, ltp: "101.6" }] }]);
      const results = orderNos.map((orderNo) => exits.executeExit({ orderNo, reason: "session end" }));
      // Every intent is stored (EXITING) before the paper router's latency starts: all are in flight.
      for (const orderNo of orderNos) {
        let status = (await exits.getTracker({ orderNo })).tracker?.status;
        for (let attempt = 0; status !== TrackerStatus.EXITING && attempt < 400; attempt++) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          status = (await exits.getTracker({ orderNo })).tracker?.status;
        }
        expect(status).toBe(TrackerStatus.EXITING);
      }

      const code = server.stop("SIGTERM");
      const answers = await Promise.all(results);
      expect(answers.map((answer) => answer.result?.status)).toEqual(orderNos.map(() => ExitStatus.EXITED));
      expect(await code).toBe(0);
      expect(server.lines.some((line) => line.includes("tradingcore stopped"))).toBe(true);
    } finally {
      exits.close();
      ticks.close();
      await server.stop("SIGKILL");
    }
  });
});
