import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeHttp2, connectHttp2, grpcFrame, http2Request } from "../support/raw-http2.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/** An empty SETTINGS frame: length 0, type 4, no flags, stream 0. */
const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

/** A raw TCP connection that sends `bytes` and then nothing; resolves when the server closes it. */
async function silentAfter(address: string, bytes: Buffer | string): Promise<"closed by the server"> {
  const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
  const socket = net.connect(port, host);
  socket.on("error", () => {});
  socket.resume(); // read and drop what the server sends (its SETTINGS, its pings), never answer
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  if (bytes.length > 0) socket.write(bytes);
  await new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return "closed by the server";
}

describe("Connections with short handshake, keepalive and idle bounds", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      config: { handshakeTimeoutMs: 200, keepaliveIntervalMs: 200, keepaliveTimeoutMs: 200, connectionIdleTimeoutMs: 300 },
    });
  });
  afterAll(() => server.close());

  it("close a connection that sends nothing at all", async () => {
    expect(await silentAfter(server.address, "")).toBe("closed by the server");
  });

  it("close a connection that sends half a preface", async () => {
    expect(await silentAfter(server.address, PREFACE.slice(0, 10))).toBe("closed by the server");
  });

  it("close a half-open connection (preface and SETTINGS, then no answer to the server's pings) by keepalive alone", async () => {
    const keepaliveOnly = await startTestServer({
      config: { keepaliveIntervalMs: 200, keepaliveTimeoutMs: 200, connectionIdleTimeoutMs: 0 },
    });
    try {
      expect(await silentAfter(keepaliveOnly.address, Buffer.concat([Buffer.from(PREFACE), EMPTY_SETTINGS]))).toBe("closed by the server");
    } finally {
      await keepaliveOnly.close();
    }
  });

  it("close a connection left with no call open, with a GOAWAY, and the next call reconnects", async () => {
    const session = await connectHttp2(server.address);
    const goaway = new Promise<void>((resolve) => session.once("goaway", () => resolve()));
    const answer = await http2Request(
      session,
      { ":path": "/grpc.health.v1.Health/Check", "content-type": "application/grpc", te: "trailers" },
      grpcFrame(),
    );
    expect(answer.grpcStatus).toBe(0);
    await goaway;
    await closeHttp2(session);
    expect((await server.health.check({ service: "" })).status).toBe(1);
  });
});
