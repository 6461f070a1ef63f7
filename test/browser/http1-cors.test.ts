/**
 * The connect engine over HTTP/1.1 and CORS, as curl and a browser's fetch
 * see it: Connect unary JSON and gRPC-Web answered on the same cleartext port
 * as HTTP/2, preflights answered for the configured origins only.
 */
import { execFile } from "node:child_process";
import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rmSync } from "node:fs";
import { Segment } from "../../gen/tradingcore/v1/common_pb.js";
import { certificatesUnavailable, makeTestCertificates } from "../support/test-certificates.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const ORIGIN = "http://page.example:8080";
const TOKEN = "cors-token-5d1e";

interface Curl {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly httpVersion: string;
}

/** curl over HTTP/1.1, the answer's status line, headers (lower-cased) and body. */
function curl(args: readonly string[], stdin?: Buffer): Promise<Curl> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "curl",
      ["-sS", "--http1.1", "-i", "--max-time", "30", ...args],
      { encoding: "latin1" },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`curl failed: ${stderr || error.message}`));
        const split = stdout.indexOf("\r\n\r\n");
        const [statusLine, ...lines] = stdout.slice(0, split).split("\r\n");
        const [httpVersion, status] = statusLine!.split(" ");
        const headers: Record<string, string> = {};
        for (const line of lines) headers[line.slice(0, line.indexOf(":")).toLowerCase()] = line.slice(line.indexOf(":") + 1).trim();
        resolve({ status: Number(status), headers, body: stdout.slice(split + 4), httpVersion: httpVersion! });
      },
    );
    child.stdin?.end(stdin ?? "");
  });
}

describe("The connect engine over HTTP/1.1", () => {
  let server: TestServer;
  let base: string;
  const json = ["-H", "content-type: application/json", "-H", `authorization: Bearer ${TOKEN}`];
  beforeAll(async () => {
    server = await startTestServer({
      engine: "connect",
      config: { corsAllowedOrigins: [ORIGIN], authToken: TOKEN, handshakeTimeoutMs: 500 },
    });
    base = `http://${server.address}`;
  });
  afterAll(() => server.close());

  it("answers a Connect unary JSON call over HTTP/1.1 (curl --http1.1)", async () => {
    const answer = await curl([
      ...json,
      "-d",
      JSON.stringify({ instrument: { segment: "SEGMENT_NSE_EQ", security_id: "2885" } }),
      `${base}/tradingcore.v1.TickService/GetLtp`,
    ]);
    expect(answer.httpVersion).toBe("HTTP/1.1");
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ ltp: { instrument: { securityId: "2885" } } });
  });

  it("registers and exits a tracker over HTTP/1.1, exactly once", async () => {
    const register = await curl([
      ...json,
      "-d",
      JSON.stringify({
        order_no: "h1-1",
        segment: "SEGMENT_NSE_EQ",
        security_id: "1594",
        side: "SIDE_LONG",
        quantity: "3",
        entry_price: "1830.4",
      }),
      `${base}/tradingcore.v1.ExitService/RegisterTracker`,
    ]);
    expect(JSON.parse(register.body)).toMatchObject({ created: true });
    // The paper market fills at the instrument's LTP; without one the exit would wait for a tick.
    await server.ticks.publishTicks([{ ticks: [{ instrument: { segment: Segment.NSE_EQ, securityId: "1594" }, ltp: "1831.2" }] }], {
      metadata: { authorization: `Bearer ${TOKEN}` },
    });
    const exit = await curl([
      ...json,
      "-d",
      JSON.stringify({ order_no: "h1-1", reason: "manual" }),
      `${base}/tradingcore.v1.ExitService/ExecuteExit`,
    ]);
    expect(JSON.parse(exit.body).result).toMatchObject({ status: "EXIT_STATUS_EXITED", success: true });
    const again = await curl([
      ...json,
      "-d",
      JSON.stringify({ order_no: "h1-1", reason: "manual" }),
      `${base}/tradingcore.v1.ExitService/ExecuteExit`,
    ]);
    expect(JSON.parse(again.body).result).toMatchObject({ status: "EXIT_STATUS_ALREADY_EXITED" });
    expect(server.paper.ordersFor("h1-1")).toBe(1);
  });

  it("refuses a call without the token over HTTP/1.1 as Connect UNAUTHENTICATED", async () => {
    const answer = await curl(["-H", "content-type: application/json", "-d", "{}", `${base}/tradingcore.v1.ExitService/ListTrackers`]);
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ code: "unauthenticated" });
  });

  it("answers gRPC-Web over HTTP/1.1 with its status in the body's trailers", async () => {
    // An empty protobuf message: the 5-byte frame header alone (flags 0, length 0).
    const answer = await curl(
      [
        "-H",
        "content-type: application/grpc-web+proto",
        "-H",
        "x-grpc-web: 1",
        "-H",
        `authorization: Bearer ${TOKEN}`,
        "--data-binary",
        "@-",
        `${base}/tradingcore.v1.ExitService/ListTrackers`,
      ],
      Buffer.alloc(5),
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/grpc-status: ?0/);
  });

  it("answers a preflight from an allowed origin with connect's CORS headers and authorization allowed", async () => {
    const answer = await curl([
      "-X",
      "OPTIONS",
      "-H",
      `origin: ${ORIGIN}`,
      "-H",
      "access-control-request-method: POST",
      "-H",
      "access-control-request-headers: content-type,connect-protocol-version,authorization",
      `${base}/tradingcore.v1.TickService/GetLtp`,
    ]);
    expect(answer.status).toBe(204);
    expect(answer.headers["access-control-allow-origin"]).toBe(ORIGIN);
    expect(answer.headers["access-control-allow-methods"]).toContain("POST");
    expect(answer.headers["access-control-allow-headers"]?.toLowerCase()).toContain("authorization");
    expect(answer.headers["access-control-allow-headers"]?.toLowerCase()).toContain("connect-protocol-version");
  });

  it("refuses a preflight from another origin with 403 naming the setting", async () => {
    const answer = await curl([
      "-X",
      "OPTIONS",
      "-H",
      "origin: http://evil.example",
      "-H",
      "access-control-request-method: POST",
      `${base}/tradingcore.v1.TickService/GetLtp`,
    ]);
    expect(answer.status).toBe(403);
    expect(answer.headers["access-control-allow-origin"]).toBeUndefined();
    expect(answer.body).toContain("--cors-allowed-origins");
  });

  it("gives an allowed origin's actual call its CORS headers, another origin's none", async () => {
    const call = (origin: string) =>
      curl([
        ...json,
        "-H",
        `origin: ${origin}`,
        "-d",
        JSON.stringify({ instrument: { segment: "SEGMENT_NSE_EQ", security_id: "1" } }),
        `${base}/tradingcore.v1.TickService/GetLtp`,
      ]);
    const allowed = await call(ORIGIN);
    expect(allowed.headers["access-control-allow-origin"]).toBe(ORIGIN);
    expect(allowed.headers["access-control-expose-headers"]?.toLowerCase()).toContain("grpc-status");
    const other = await call("http://evil.example");
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("closes an HTTP/1.1 connection that sends half a request line within the handshake bound", async () => {
    const socket = net.connect(server.core.port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write("POST /tradingcore.v1.TickService/GetLtp HT");
    await new Promise<void>((resolve) => socket.once("close", () => resolve()));
    expect(socket.destroyed).toBe(true);
  });
});

describe.runIf(certificatesUnavailable() === undefined)("The connect engine over HTTP/1.1 behind TLS", () => {
  it("answers Connect over HTTP/1.1 (ALPN http/1.1) and gRPC over HTTP/2 on the same TLS port", async () => {
    const certificates = makeTestCertificates();
    const server = await startTestServer({
      engine: "connect",
      config: { tlsCertFile: certificates.serverCertFile, tlsKeyFile: certificates.serverKeyFile },
    });
    try {
      const answer = await curl([
        "--cacert",
        certificates.caFile,
        "-H",
        "content-type: application/json",
        "-d",
        JSON.stringify({ instrument: { segment: "SEGMENT_NSE_EQ", security_id: "7" } }),
        `https://${server.address}/tradingcore.v1.TickService/GetLtp`,
      ]);
      expect(answer.httpVersion).toBe("HTTP/1.1");
      expect(JSON.parse(answer.body)).toMatchObject({ ltp: { instrument: { securityId: "7" } } });
      const h2 = await new Promise<string>((resolve, reject) =>
        execFile(
          "curl",
          [
            "-sS",
            "--http2",
            "--cacert",
            certificates.caFile,
            "-o",
            "/dev/null",
            "-w",
            "%{http_version}",
            "-H",
            "content-type: application/json",
            "-d",
            "{}",
            `https://${server.address}/tradingcore.v1.TickService/GetLtp`,
          ],
          (error, stdout) => (error ? reject(error) : resolve(stdout)),
        ),
      );
      expect(h2).toBe("2");
    } finally {
      await server.close();
      rmSync(certificates.dir, { recursive: true, force: true });
    }
  });
});

describe("An idle HTTP/1.1 keep-alive connection to the connect engine", () => {
  it("is closed after --connection-idle-timeout-ms with no request open", async () => {
    const server = await startTestServer({ engine: "connect", config: { connectionIdleTimeoutMs: 200 } });
    try {
      const socket = net.connect(server.core.port, "127.0.0.1");
      const answered = new Promise<string>((resolve) => socket.once("data", (chunk: Buffer) => resolve(chunk.toString("latin1"))));
      const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      const body = JSON.stringify({ instrument: { segment: "SEGMENT_NSE_EQ", security_id: "9" } });
      socket.write(
        `POST /tradingcore.v1.TickService/GetLtp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: keep-alive\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      expect(await answered).toMatch(/^HTTP\/1\.1 200/);
      await closed;
      expect(socket.destroyed).toBe(true);
    } finally {
      await server.close();
    }
  });
});
