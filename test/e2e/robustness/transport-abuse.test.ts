/**
 * Broken and hostile HTTP/2 traffic against a server process: each abuse
 * gets an error answer (or its connection closed), other connections keep
 * being served, and the server's memory stays bounded.
 */
import { readFileSync } from "node:fs";
import * as http2 from "node:http2";
import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health } from "../../../gen/grpc/health/v1/health_pb.js";
import { ExitService } from "../../../gen/tradingcore/v1/exit_pb.js";
import { createGrpcJsClient } from "../../../src/client/grpc-js-client.js";
import { closeHttp2, connectHttp2, grpcFrame, http2Request, type RawAnswer } from "../../support/raw-http2.js";
import { startServerProcess, type ServerProcess } from "../../support/server-process.js";
import { testEngine } from "../../support/test-server.js";

const LIST_TRACKERS = `/${ExitService.typeName}/ListTrackers`;
const HEALTH_CHECK = "/grpc.health.v1.Health/Check";
const GRPC = { "content-type": "application/grpc", te: "trailers" };
const MAX_MESSAGE_BYTES = 64 * 1024;
/**
 * The server's V8 heap is capped (a leak would end it with an out-of-memory crash, and the calls after
 * would fail), and its resident memory may grow by at most this over the whole suite. Resident memory
 * keeps what the collector freed but the allocator has not returned, and on a busy machine the collector
 * runs late: 128 MB of growth was seen there with no leak, so the bound is twice the heap cap; a leak on
 * the heap meets the cap first and ends the server.
 */
const HEAP_CAP_MB = 128;
const RSS_GROWTH_BOUND_BYTES = 2 * HEAP_CAP_MB * 1024 * 1024;

/** Resident memory of a process, from /proc (Linux). */
function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Number(/(\d+)/.exec(line ?? "")?.[1] ?? Number.NaN) * 1024;
}

/** A call answered on a connection of its own: the server still serves others. */
async function servedOnAnotherConnection(address: string): Promise<number> {
  const health = createGrpcJsClient(Health, address, { channelOptions: { "grpc.use_local_subchannel_pool": 1 } });
  try {
    return (await health.check({ service: "" }, { timeoutMs: 20_000 })).status;
  } finally {
    health.close();
  }
}

/** A grpc-status that is an error (set, and not OK), or an HTTP error status. */
const refused = (answer: RawAnswer) => (answer.grpcStatus !== undefined && answer.grpcStatus !== 0) || answer.status >= 400;

// Half-open connections wait out a keepalive timeout of 5 s: more than vitest's default per test.
describe("A server under transport abuse", { timeout: 60_000 }, () => {
  let server: ServerProcess;
  let rssAtStart: number;
  beforeAll(async () => {
    server = await startServerProcess(
      [
        "--handshake-timeout-ms",
        "500",
        "--keepalive-interval-ms",
        "500",
        // Generous: a busy client (this test, on a loaded machine) must not miss a ping answer.
        "--keepalive-timeout-ms",
        "5000",
        "--max-message-bytes",
        String(MAX_MESSAGE_BYTES),
        "--log-level",
        "info",
      ],
      { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --max-old-space-size=${HEAP_CAP_MB}` },
    );
    // One round of ordinary calls first, so start-up allocations are not counted as growth.
    const session = await connectHttp2(server.address);
    for (let i = 0; i < 200; i++) await http2Request(session, { ":path": HEALTH_CHECK, ...GRPC }, grpcFrame());
    await closeHttp2(session);
    rssAtStart = rssOf(server.pid);
  });
  afterAll(() => server?.stop("SIGKILL"));

  describe("on one connection", () => {
    let session: http2.ClientHttp2Session;
    beforeAll(async () => {
      session = await connectHttp2(server.address);
    });
    afterAll(() => closeHttp2(session));

    it("answers a truncated message (the length prefix promises more than comes) with an error status", async () => {
      const answer = await http2Request(session, { ":path": LIST_TRACKERS, ...GRPC }, grpcFrame(Buffer.alloc(10), { declaredLength: 100 }));
      expect(refused(answer)).toBe(true);
    });

    it("answers a length prefix of 4 GiB with RESOURCE_EXHAUSTED, reading none of it", async () => {
      const answer = await http2Request(
        session,
        { ":path": LIST_TRACKERS, ...GRPC },
        grpcFrame(Buffer.alloc(0), { declaredLength: 0xffffffff }),
      );
      expect(answer.grpcStatus).toBe(8);
    });

    it("answers a message flagged compressed with no grpc-encoding as the engine's library does: INTERNAL, or read as uncompressed", async () => {
      const message = Buffer.from([0x08, 0x01]);
      const flagged = await http2Request(session, { ":path": LIST_TRACKERS, ...GRPC }, grpcFrame(message, { compressed: true }));
      if (testEngine() === "connect") expect(flagged.grpcStatus).toBe(13);
      else {
        // grpc-js takes a missing grpc-encoding for identity, so the flag changes nothing: the same answer as without it.
        const plain = await http2Request(session, { ":path": LIST_TRACKERS, ...GRPC }, grpcFrame(message));
        expect(flagged.grpcStatus).toBe(plain.grpcStatus);
        expect(flagged.body).toEqual(plain.body);
      }
    });

    it.each(["text/plain", "application/xml", "multipart/form-data", ""])("refuses content-type %j", async (contentType) => {
      const answer = await http2Request(session, { ":path": LIST_TRACKERS, "content-type": contentType, te: "trailers" }, grpcFrame());
      expect(refused(answer)).toBe(true);
    });

    it("answers an unknown method with UNIMPLEMENTED (grpc-js) or HTTP 404, which gRPC clients read as UNIMPLEMENTED (connect)", async () => {
      const answer = await http2Request(session, { ":path": `/${ExitService.typeName}/NoSuchMethod`, ...GRPC }, grpcFrame());
      if (testEngine() === "connect") expect(answer.status).toBe(404);
      else expect(answer.grpcStatus).toBe(12);
    });

    it("answers 3,000 calls in waves at the stream limit, every one", async () => {
      const statuses: (number | undefined)[] = [];
      for (let wave = 0; wave < 15; wave++) {
        const answers = await Promise.all(
          Array.from({ length: 200 }, () => http2Request(session, { ":path": HEALTH_CHECK, ...GRPC }, grpcFrame())),
        );
        statuses.push(...answers.map((answer) => answer.grpcStatus));
      }
      expect(statuses.length).toBe(3000);
      expect(statuses.every((status) => status === 0)).toBe(true);
    });
  });

  it("survives 2,000 streams reset as soon as they are opened (rapid reset), and serves other connections", async () => {
    const session = await connectHttp2(server.address);
    const closed = new Promise<void>((resolve) => session.once("close", () => resolve()));
    for (let i = 0; i < 2000 && !session.destroyed && !session.closed; i++) {
      try {
        const stream = session.request({ ":method": "POST", ":path": LIST_TRACKERS, ...GRPC });
        stream.on("error", () => {});
        stream.close(http2.constants.NGHTTP2_CANCEL);
      } catch {
        break; // the server sent GOAWAY: no more streams on this connection
      }
    }
    session.destroy();
    await closed;
    expect(await servedOnAnotherConnection(server.address)).toBe(1);
  });

  it("closes 300 connections that never finish their preface or stop answering, while serving another", async () => {
    const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
    const sends = ["", preface.slice(0, 7), Buffer.concat([Buffer.from(preface), settings])];
    const [host, port] = [server.address.slice(0, server.address.lastIndexOf(":")), server.port];
    const closes = Array.from({ length: 300 }, async (_, i) => {
      const socket = net.connect(port, host);
      socket.on("error", () => {});
      socket.resume();
      await new Promise<void>((resolve) => socket.once("connect", resolve));
      const bytes = sends[i % sends.length]!;
      if (bytes.length > 0) socket.write(bytes);
      await new Promise<void>((resolve) => socket.once("close", () => resolve()));
    });
    expect(await servedOnAnotherConnection(server.address)).toBe(1);
    await Promise.all(closes);
  });

  it("answers a header block far over any sane size with an error, and serves other connections", async () => {
    const session = await connectHttp2(server.address);
    try {
      const answer = await http2Request(session, { ":path": LIST_TRACKERS, ...GRPC, "x-padding": "p".repeat(200_000) }, grpcFrame()).catch(
        (error: Error) => error,
      );
      expect(answer instanceof Error || refused(answer)).toBe(true);
    } finally {
      session.destroy();
    }
    expect(await servedOnAnotherConnection(server.address)).toBe(1);
  });

  it("is still running inside its heap cap, its memory grown by less than the bound, after all of it", async () => {
    expect(await servedOnAnotherConnection(server.address)).toBe(1);
    expect(server.child.exitCode).toBeNull();
    const growth = rssOf(server.pid) - rssAtStart;
    expect(growth).toBeLessThan(RSS_GROWTH_BOUND_BYTES);
  });
});
