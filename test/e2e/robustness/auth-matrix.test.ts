/**
 * Every RPC, over every protocol the port speaks, with every way of getting
 * the token wrong: none is let through, and no token reaches the log.
 */
import type { DescService } from "@bufbuild/protobuf";
import type * as http2 from "node:http2";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health } from "../../../gen/grpc/health/v1/health_pb.js";
import { ExitService } from "../../../gen/tradingcore/v1/exit_pb.js";
import { TickService } from "../../../gen/tradingcore/v1/tick_pb.js";
import { REFLECTION_SERVICES } from "../../../src/server/handlers/reflection-service.js";
import type { CallMiddleware } from "../../../src/rpc/call-middleware.js";
import { rawHttp2Request } from "../../support/raw-h2-frames.js";
import { closeHttp2, connectHttp2, grpcFrame, http1Request, http2Request, type RawAnswer } from "../../support/raw-http2.js";
import { startTestServer, testEngine, type TestServer } from "../../support/test-server.js";

const TOKEN = "matrix-token-7f3a9c1e5b";
const UNAUTHENTICATED = 16;

/** Header sets that must never authenticate: [what it is, headers]. */
const WRONG: readonly [string, http2.OutgoingHttpHeaders][] = [
  ["no header", {}],
  ["an empty value", { authorization: "" }],
  ["a wrong token", { authorization: "Bearer wrong-token" }],
  ["the token in another case", { authorization: `Bearer ${TOKEN.toUpperCase()}` }],
  ["a prefix of the token", { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
  ["the token and more", { authorization: `Bearer ${TOKEN}x` }],
  ["the token without a scheme", { authorization: TOKEN }],
  ["another scheme", { authorization: `Basic ${TOKEN}` }],
  ["no space after the scheme", { authorization: `Bearer${TOKEN}` }],
  ["a TAB after the scheme", { authorization: `Bearer\t${TOKEN}` }],
  ["a TAB after the token", { authorization: `Bearer ${TOKEN}\t` }],
  ["a comma list", { authorization: `Bearer ${TOKEN}, Bearer ${TOKEN}` }],
  ["spaces around the value", { authorization: `  Bearer ${TOKEN}  ` }],
  ["a padded value past the bound", { authorization: `Bearer ${TOKEN}${" ".repeat(10_000)}` }],
  ["another header name", { "x-authorization": `Bearer ${TOKEN}` }],
  ["a misspelt header name", { authorisation: `Bearer ${TOKEN}` }],
  ["proxy-authorization", { "proxy-authorization": `Bearer ${TOKEN}` }],
  ["grpc-metadata- prefixed", { "grpc-metadata-authorization": `Bearer ${TOKEN}` }],
];
/** Header sets that authenticate. */
const RIGHT: readonly [string, http2.OutgoingHttpHeaders][] = [
  ["the token", { authorization: `Bearer ${TOKEN}` }],
  ["the scheme in another case, several spaces before the token", { authorization: `bEARER   ${TOKEN}` }],
];

/**
 * HTTP/1.1 strips a header value's leading and trailing whitespace before
 * anyone reads it (RFC 9110 section 5.5: it is not part of the value), so over
 * HTTP/1.1 these carry exactly the token.
 */
const TRIMMED_BY_HTTP1 = new Set(["a TAB after the token", "spaces around the value", "a padded value past the bound"]);

type Protocol = "grpc" | "grpc-web" | "connect";
const SERVICES: readonly DescService[] = [ExitService, TickService, Health, ...REFLECTION_SERVICES];
const OPEN = new Set<string>([Health.typeName, ...REFLECTION_SERVICES.map((service) => service.typeName)]);

function request(protocol: Protocol, kind: string): { headers: http2.OutgoingHttpHeaders; body: Buffer } {
  const streaming = kind !== "unary";
  switch (protocol) {
    case "grpc":
      return { headers: { "content-type": "application/grpc", te: "trailers" }, body: grpcFrame() };
    case "grpc-web":
      return { headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" }, body: grpcFrame() };
    case "connect":
      return streaming
        ? { headers: { "content-type": "application/connect+json", "connect-protocol-version": "1" }, body: grpcFrame(Buffer.from("{}")) }
        : { headers: { "content-type": "application/json", "connect-protocol-version": "1" }, body: Buffer.from("{}") };
  }
}

/** True when the answer is this protocol's UNAUTHENTICATED. */
function unauthenticated(protocol: Protocol, answer: RawAnswer): boolean {
  if (protocol === "connect") return answer.body.toString("utf8").includes('"code":"unauthenticated"');
  if (answer.grpcStatus !== undefined) return answer.grpcStatus === UNAUTHENTICATED;
  // gRPC-Web sends its trailers in the body when messages came first.
  return /grpc-status: ?16\r\n/.test(answer.body.toString("latin1"));
}

const engine = testEngine();
const PROTOCOLS: readonly Protocol[] = engine === "connect" ? ["grpc", "grpc-web", "connect"] : ["grpc"];

describe(`Auth on the ${engine} port, every RPC`, () => {
  let server: TestServer;
  let closedHealth: TestServer;
  let session: http2.ClientHttp2Session;
  let closedSession: http2.ClientHttp2Session;
  const lines: string[] = [];
  /** Calls that got past auth to the handlers, as `service/method`. */
  const reached: string[] = [];
  const recorder: CallMiddleware = (call, next) => (reached.push(`${call.service}/${call.method}`), next());
  beforeAll(async () => {
    const sink = new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) });
    const log = pino({ level: "trace" }, sink);
    server = await startTestServer({ config: { authToken: TOKEN }, adapters: { log, middleware: [recorder] } });
    closedHealth = await startTestServer({
      config: { authToken: TOKEN, authOpenHealthAndReflection: false },
      adapters: { log, middleware: [recorder] },
    });
    session = await connectHttp2(server.address);
    closedSession = await connectHttp2(closedHealth.address);
  });
  afterAll(async () => {
    await closeHttp2(session);
    await closeHttp2(closedSession);
    await server.close();
    await closedHealth.close();
  });

  /** Every (service, method) with an answer that is not UNAUTHENTICATED, for `headers` on `target`. */
  async function letThrough(
    target: http2.ClientHttp2Session,
    protocol: Protocol,
    headers: http2.OutgoingHttpHeaders,
    open: ReadonlySet<string>,
  ) {
    const through: string[] = [];
    for (const service of SERVICES) {
      if (open.has(service.typeName)) continue;
      for (const method of service.methods) {
        const { headers: base, body } = request(protocol, method.methodKind);
        const answer = await http2Request(target, { ":path": `/${service.typeName}/${method.name}`, ...base, ...headers }, body);
        if (!unauthenticated(protocol, answer))
          through.push(`${service.typeName}/${method.name}: HTTP ${answer.status} grpc-status ${answer.grpcStatus}`);
      }
    }
    return through;
  }

  const handlersRun = (open: ReadonlySet<string>) => reached.splice(0).filter((rpc) => !open.has(rpc.slice(0, rpc.lastIndexOf("/"))));

  describe.each(PROTOCOLS)("over %s", (protocol) => {
    it.each(WRONG)("refuses %s on every RPC but health and reflection, and runs no handler", async (_what, headers) => {
      reached.length = 0;
      expect(await letThrough(session, protocol, headers, OPEN)).toEqual([]);
      expect(handlersRun(OPEN)).toEqual([]);
    });

    it.each(WRONG)("refuses %s on health and reflection too when they are closed", async (_what, headers) => {
      reached.length = 0;
      expect(await letThrough(closedSession, protocol, headers, new Set())).toEqual([]);
      expect(handlersRun(new Set())).toEqual([]);
    });

    it("with the authorization header given twice, decides on the first value, on every RPC (node's HTTP/2 keeps it)", async () => {
      const { headers: base, body } = request(protocol, "unary");
      const fields = Object.entries(base).map(([name, value]) => [name, String(value)] as const);
      const twice = (first: string, second: string) => [...fields, ["authorization", first], ["authorization", second]] as const;
      for (const service of [ExitService, TickService]) {
        for (const method of service.methods.filter((m) => m.methodKind === "unary")) {
          const path = `/${service.typeName}/${method.name}`;
          reached.length = 0;
          expect(await rawHttp2Request(server.address, path, twice("Bearer wrong-token", `Bearer ${TOKEN}`), body)).toBe("answered");
          expect(await rawHttp2Request(server.address, path, twice(`Bearer ${TOKEN}, x`, `Bearer ${TOKEN}`), body)).toBe("answered");
          expect(reached).toEqual([]);
          expect(await rawHttp2Request(server.address, path, twice(`Bearer ${TOKEN}`, "Bearer wrong-token"), body)).toBe("answered");
          expect(reached).toEqual([path.slice(1)]);
        }
      }
    });

    it.each(RIGHT)("lets %s through on the unary RPCs", async (_what, headers) => {
      const answers = [];
      for (const method of ExitService.methods.filter((m) => m.methodKind === "unary")) {
        const { headers: base, body } = request(protocol, "unary");
        answers.push(await http2Request(session, { ":path": `/${ExitService.typeName}/${method.name}`, ...base, ...headers }, body));
      }
      expect(answers.filter((answer) => unauthenticated(protocol, answer))).toEqual([]);
      expect(answers.every((answer) => answer.status > 0)).toBe(true);
    });
  });

  if (engine === "grpc-js") {
    it("serves no HTTP/1.1 request, with the token or without (grpc-js speaks HTTP/2 only)", async () => {
      const path = `/${ExitService.typeName}/ListTrackers`;
      for (const headers of [{}, { authorization: `Bearer ${TOKEN}` }]) {
        for (const contentType of ["application/json", "application/grpc-web+proto", "application/grpc"]) {
          const answer = await http1Request(server.address, path, { "content-type": contentType, ...headers }, Buffer.from("{}")).catch(
            (error: Error) => error,
          );
          if (!(answer instanceof Error)) expect(answer.status).not.toBe(200);
        }
      }
    });
  } else {
    describe.each(["grpc-web", "connect"] as const)("over %s on HTTP/1.1", (protocol) => {
      /** Every unary (service, method) not refused UNAUTHENTICATED over HTTP/1.1 with `headers`. */
      async function letThroughHttp1(address: string, headers: http2.OutgoingHttpHeaders, open: ReadonlySet<string>) {
        const through: string[] = [];
        for (const service of SERVICES) {
          if (open.has(service.typeName)) continue;
          for (const method of service.methods.filter((m) => m.methodKind === "unary")) {
            const { headers: base, body } = request(protocol, "unary");
            const answer = await http1Request(address, `/${service.typeName}/${method.name}`, { ...base, ...headers }, body);
            if (!unauthenticated(protocol, answer)) through.push(`${service.typeName}/${method.name}: HTTP ${answer.status}`);
          }
        }
        return through;
      }

      it.each(WRONG.filter(([what]) => !TRIMMED_BY_HTTP1.has(what)))(
        "refuses %s on every unary RPC but health and reflection, and runs no handler",
        async (_what, headers) => {
          reached.length = 0;
          expect(await letThroughHttp1(server.address, headers, OPEN)).toEqual([]);
          expect(handlersRun(OPEN)).toEqual([]);
        },
      );

      it.each(WRONG.filter(([what]) => TRIMMED_BY_HTTP1.has(what)))(
        "reads %s as the bare token, since HTTP/1.1 trims header values",
        async (_what, headers) => {
          const { headers: base, body } = request(protocol, "unary");
          const answer = await http1Request(server.address, `/${ExitService.typeName}/ListTrackers`, { ...base, ...headers }, body);
          expect(unauthenticated(protocol, answer)).toBe(false);
        },
      );

      it("refuses a missing token on health and reflection too when they are closed", async () => {
        reached.length = 0;
        expect(await letThroughHttp1(closedHealth.address, {}, new Set())).toEqual([]);
        expect(handlersRun(new Set())).toEqual([]);
      });

      it.each(RIGHT)("lets %s through on the unary RPCs", async (_what, headers) => {
        const answers = [];
        for (const method of ExitService.methods.filter((m) => m.methodKind === "unary")) {
          const { headers: base, body } = request(protocol, "unary");
          answers.push(await http1Request(server.address, `/${ExitService.typeName}/${method.name}`, { ...base, ...headers }, body));
        }
        expect(answers.filter((answer) => unauthenticated(protocol, answer))).toEqual([]);
        expect(answers.every((answer) => answer.status > 0)).toBe(true);
      });
    });
  }

  it("logs neither the configured token nor a presented one, at trace level", () => {
    const log = lines.join("");
    expect(lines.length).toBeGreaterThan(0);
    expect(log).not.toContain(TOKEN);
    expect(log).not.toContain(TOKEN.toUpperCase());
    expect(log).not.toContain(TOKEN.slice(0, -1));
  });
});
