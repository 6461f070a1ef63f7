import { rmSync } from "node:fs";
import { Writable } from "node:stream";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import { createGrpcJsClient } from "../../src/client/grpc-js-client.js";
import { ConfigError, defaultConfig } from "../../src/config.js";
import { startTradingCore } from "../../src/main.js";
import { uniqueOrderNo } from "../support/fixtures.js";
import { certificatesUnavailable, makeTestCertificates, type TestCertificates } from "../support/test-certificates.js";
import { startTestServer, testEngine, type TestServer } from "../support/test-server.js";

const TOKEN = "correct horse battery staple";
const bearer = (token: string) => ({ metadata: { authorization: `Bearer ${token}` } });
const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => grpc.status.OK,
    (error: grpc.ServiceError) => error.code,
  );

describe("Bearer-token auth", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: { authToken: TOKEN } });
  });
  afterAll(() => server.close());

  it("answers UNAUTHENTICATED to a call without a token, and runs nothing", async () => {
    const orderNo = uniqueOrderNo("auth");
    expect(await codeOf(server.exits.getTracker({ orderNo }))).toBe(grpc.status.UNAUTHENTICATED);
    expect(await codeOf(server.exits.executeExit({ orderNo, reason: "sl" }))).toBe(grpc.status.UNAUTHENTICATED);
  });

  it("answers UNAUTHENTICATED to a wrong token, one of another length, or another scheme", async () => {
    for (const metadata of [
      { authorization: "Bearer correct horse battery stapler" },
      { authorization: "Bearer x" },
      { authorization: `Basic ${TOKEN}` },
    ]) {
      expect(await codeOf(server.exits.listTrackers({}, { metadata }))).toBe(grpc.status.UNAUTHENTICATED);
    }
  });

  it("lets a call with the right token through", async () => {
    expect(await codeOf(server.exits.listTrackers({}, bearer(TOKEN)))).toBe(grpc.status.OK);
    const { result } = await server.exits.executeExit({ orderNo: uniqueOrderNo("auth"), reason: "sl" }, bearer(TOKEN));
    expect(result?.message).toMatch(/no tracker/);
  });

  it("keeps health open without a token by default", async () => {
    expect((await server.health.check({ service: "" })).status).toBe(1);
  });

  it("closes health too when the setting says so", async () => {
    const closed = await startTestServer({ config: { authToken: TOKEN, authOpenHealthAndReflection: false } });
    try {
      expect(await codeOf(closed.health.check({ service: "" }))).toBe(grpc.status.UNAUTHENTICATED);
      expect((await closed.health.check({ service: "" }, bearer(TOKEN))).status).toBe(1);
    } finally {
      await closed.close();
    }
  });
});

describe("Calls with a hostile authorization header (whitespace padding, no token needed)", () => {
  it("answer UNAUTHENTICATED while a health check made beside them is answered", async () => {
    const server = await startTestServer({ config: { authToken: TOKEN } });
    try {
      // A backtracking parser spent seconds of CPU on each of these; 24 of them would hold the
      // health check far past its (generous) deadline.
      const hostile = { metadata: { authorization: `Bearer a${" ".repeat(60_000)}b` } };
      const calls = Array.from({ length: 24 }, (_, i) =>
        i % 2 === 0 ? codeOf(server.exits.listTrackers({}, hostile)) : codeOf(server.exits.getTracker({ orderNo: "x" }, hostile)),
      );
      const health = server.health.check({ service: "" }, { timeoutMs: 20_000 });
      expect((await health).status).toBe(1);
      expect(new Set(await Promise.all(calls))).toEqual(new Set([grpc.status.UNAUTHENTICATED]));
    } finally {
      await server.close();
    }
  });
});

describe("Logs of a server with auth on", () => {
  it("never carry the configured token nor a presented one, at debug level", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write: (chunk, _encoding, done) => {
        lines.push(String(chunk));
        done();
      },
    });
    const server = await startTestServer({ config: { authToken: TOKEN }, adapters: { log: pino({ level: "trace" }, sink) } });
    try {
      await codeOf(server.exits.listTrackers({}, bearer("a-wrong-secret-token")));
      await codeOf(server.exits.listTrackers({}, bearer(TOKEN)));
      await codeOf(server.exits.executeExit({ orderNo: uniqueOrderNo("log"), reason: "sl" }, bearer(TOKEN)));
    } finally {
      await server.close();
    }
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join("")).not.toContain("correct horse");
    expect(lines.join("")).not.toContain("a-wrong-secret-token");
  });
});

describe("Listening beyond loopback", () => {
  const config = { ...defaultConfig(), port: 0, logLevel: "silent" as const, engine: testEngine() };

  it("is refused without a token, before anything listens", async () => {
    await expect(startTradingCore({ ...config, host: "0.0.0.0" })).rejects.toThrow(ConfigError);
    await expect(startTradingCore({ ...config, host: "::" })).rejects.toThrow(/beyond loopback.*TRADINGCORE_AUTH_TOKEN/);
  });

  it("is allowed on any loopback address without a token", async () => {
    const core = await startTradingCore({ ...config, host: "127.0.0.2" });
    await core.stop();
  });
});

describe.runIf(certificatesUnavailable() === undefined)("TLS", () => {
  let certificates: TestCertificates;
  beforeAll(() => {
    certificates = makeTestCertificates();
  });
  afterAll(() => rmSync(certificates.dir, { recursive: true, force: true }));

  it("completes a handshake with a client that trusts the CA, and refuses a cleartext client", async () => {
    const server = await startTestServer({ config: { tlsCertFile: certificates.serverCertFile, tlsKeyFile: certificates.serverKeyFile } });
    const secure = createGrpcJsClient(Health, server.address, { credentials: grpc.credentials.createSsl(certificates.ca) });
    try {
      expect((await secure.check({ service: ExitService.typeName }, { timeoutMs: 20_000 })).status).toBe(1);
      expect(await codeOf(server.health.check({ service: "" }, { timeoutMs: 5_000 }))).not.toBe(grpc.status.OK);
    } finally {
      secure.close();
      await server.close();
    }
  });

  it("with a client CA (mTLS), serves a client with a certificate it signed and refuses one without", async () => {
    const server = await startTestServer({
      config: { tlsCertFile: certificates.serverCertFile, tlsKeyFile: certificates.serverKeyFile, tlsClientCaFile: certificates.caFile },
    });
    const withCertificate = createGrpcJsClient(Health, server.address, {
      credentials: grpc.credentials.createSsl(certificates.ca, certificates.clientKey, certificates.clientCert),
    });
    const without = createGrpcJsClient(Health, server.address, { credentials: grpc.credentials.createSsl(certificates.ca) });
    try {
      expect((await withCertificate.check({ service: "" }, { timeoutMs: 20_000 })).status).toBe(1);
      expect(await codeOf(without.check({ service: "" }, { timeoutMs: 5_000 }))).not.toBe(grpc.status.OK);
    } finally {
      withCertificate.close();
      without.close();
      await server.close();
    }
  });

  it("stops start-up naming the setting when a file cannot be read", async () => {
    const config = {
      ...defaultConfig(),
      port: 0,
      logLevel: "silent" as const,
      tlsCertFile: "/nonexistent/cert.pem",
      tlsKeyFile: certificates.serverKeyFile,
    };
    await expect(startTradingCore(config)).rejects.toThrow(/TRADINGCORE_TLS_CERT_FILE: cannot read \/nonexistent\/cert.pem/);
  });
});
