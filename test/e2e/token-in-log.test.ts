import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import { createGrpcJsClient } from "../../src/client/grpc-js-client.js";
import { closeHttp2, connectHttp2, grpcFrame, http2Request } from "../support/raw-http2.js";
import { freeLoopbackPort, startServerProcess, untilAccepting, type ServerProcess } from "../support/server-process.js";
import { testEngine } from "../support/test-server.js";

const TOKEN = "tc-secret-0123456789abcdef";
const PRESENTED = "presented-wrong-secret-42";
const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
const LIST_TRACKERS = `/${ExitService.typeName}/ListTrackers`;

/** Headers a gRPC library refuses to send and grpc-js logs whole when it receives them. */
const HOSTILE_HEADERS: Record<string, string>[] = [
  { authorization: `Bearer\t${TOKEN}` },
  { authorization: `Bearer ${TOKEN}\t` },
  { authorization: `Bearer\t${PRESENTED}` },
  { "x-api-key": `${TOKEN}\tsecond` },
  { "x-forwarded-authorization": `bearer\t${PRESENTED}` },
];

describe.each(LEVELS)("The log of a server with a token, at --log-level %s", (level) => {
  let server: ServerProcess;
  beforeAll(async () => {
    // Above info the "listening" line is dropped, so the test picks the port and waits for a connection.
    const port = await freeLoopbackPort();
    const address = `127.0.0.1:${port}`;
    server = await startServerProcess(["--log-level", level, "--port", String(port)], { TRADINGCORE_AUTH_TOKEN: TOKEN }, 30_000, address);
    await untilAccepting(address);
    const session = await connectHttp2(server.address);
    try {
      for (const headers of HOSTILE_HEADERS) {
        await http2Request(
          session,
          { ":path": LIST_TRACKERS, "content-type": "application/grpc", te: "trailers", ...headers },
          grpcFrame(),
        );
      }
    } finally {
      await closeHttp2(session);
    }
    const client = createGrpcJsClient(ExitService, server.address);
    try {
      await client.listTrackers({}, { metadata: { authorization: `Bearer ${TOKEN}` } });
      await client.listTrackers({}, { metadata: { authorization: `Bearer ${PRESENTED}` } }).catch(() => undefined);
    } finally {
      client.close();
    }
    expect(await server.stop("SIGTERM")).toBe(0);
  });
  afterAll(() => server?.stop("SIGKILL"));

  it("never carries the configured token nor a presented one, on stdout or stderr", () => {
    const everything = [...server.lines, ...server.stderr].join("\n");
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(PRESENTED);
  });

  it("has nothing of grpc-js's on stderr: its lines go through the JSON log", () => {
    expect(server.stderr.join("")).toBe("");
  });

  it.runIf(testEngine() === "grpc-js" && ["trace", "debug", "info", "warn", "error"].includes(level))(
    "logs grpc-js's complaint about the header, redacted",
    () => {
      const complaints = server.lines.filter(
        (line) => line.includes('"component":"grpc-js"') && line.includes("Failed to add metadata entry"),
      );
      expect(complaints.length).toBeGreaterThan(0);
      for (const line of complaints) expect(line).toMatch(/\[redacted\]/);
    },
  );
});
