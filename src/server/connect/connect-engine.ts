/**
 * Serves the handlers with @connectrpc/connect-node on HTTP/2 and HTTP/1.1
 * (cleartext, or TLS when material is given): gRPC, gRPC-Web and Connect on
 * one port, with CORS for the origins configured.
 */
import * as http from "node:http";
import * as http2 from "node:http2";
import type * as net from "node:net";
import type { AddressInfo } from "node:net";
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { ExitLog } from "../../exit/ports.js";
import { peerContextValues } from "./connect-peer.js";
import { excerpt } from "../../domain/text-excerpt.js";
import { toConnectError } from "../../rpc/error-codes.js";
import { cleartextSplit } from "./cleartext-split.js";
import { withCors } from "./cors.js";
import { guardHttp1 } from "./http1-socket-guard.js";
import { guardSessions, type SessionLimits } from "../http2-session-guard.js";
import { bareHost } from "../listen-host.js";
import type { TlsMaterial } from "../tls-material.js";

export interface RunningEngine {
  readonly engine: "connect" | "grpc-js";
  readonly host: string;
  readonly port: number;
  /** Stops accepting, waits up to `graceMs` for open calls, then closes what is left. */
  close(graceMs: number): Promise<void>;
}

export interface ConnectEngineOptions {
  readonly host: string;
  readonly port: number;
  readonly routes: (router: ConnectRouter) => void;
  readonly interceptors?: Interceptor[];
  readonly log: ExitLog;
  /** Largest request message accepted, bytes. */
  readonly maxMessageBytes?: number;
  /** Most calls open at once on one connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly maxConcurrentStreams?: number;
  /** TLS (and mTLS) material; cleartext HTTP/2 when absent. */
  readonly tls?: TlsMaterial;
  /** Handshake, keepalive and idle bounds of each connection; none when absent. */
  readonly sessionLimits?: SessionLimits;
  /** Browser origins whose pages may call (CORS); `*` for any; none when absent. */
  readonly corsAllowedOrigins?: readonly string[];
}

export async function startConnectEngine(options: ConnectEngineOptions): Promise<RunningEngine> {
  const handler = withCors(
    connectNodeAdapter({
      routes: options.routes,
      interceptors: [errorMapping(options.log), ...(options.interceptors ?? [])],
      ...(options.maxMessageBytes ? { readMaxBytes: options.maxMessageBytes } : {}),
      contextValues: peerContextValues,
    }),
    options.corsAllowedOrigins ?? [],
  );
  const settings: http2.Settings = options.maxConcurrentStreams ? { maxConcurrentStreams: options.maxConcurrentStreams } : {};
  const limits = options.sessionLimits;
  const tls = options.tls;
  let listener: net.Server;
  let undecided = () => {};
  let h2: http2.Http2Server | http2.Http2SecureServer;
  let h1: ReturnType<typeof guardHttp1>;
  if (tls) {
    // Behind TLS, ALPN says which protocol a connection speaks, and node's server serves both.
    const secure = http2.createSecureServer(
      {
        cert: tls.cert,
        key: tls.key,
        settings,
        allowHTTP1: true,
        ...(limits ? { handshakeTimeout: limits.handshakeTimeoutMs } : {}),
        ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
      },
      handler,
    );
    h1 = guardHttp1(secure as unknown as http.Server, limits);
    secure.on("secureConnection", (socket: net.Socket & { alpnProtocol?: string | false }) => {
      if (socket.alpnProtocol !== "h2") h1.accepted(socket);
    });
    listener = h2 = secure;
  } else {
    const plain = http2.createServer({ settings }, handler);
    const http1 = http.createServer({ requireHostHeader: false }, handler);
    h1 = guardHttp1(http1, limits);
    h2 = plain;
    const split = cleartextSplit({
      http2: (socket) => plain.emit("connection", socket),
      http1: (socket) => {
        h1.accepted(socket);
        http1.emit("connection", socket);
      },
      ...(limits ? { handshakeTimeoutMs: limits.handshakeTimeoutMs } : {}),
    });
    undecided = () => split.destroyUndecided();
    listener = split;
  }
  if (limits) guardSessions(h2, limits);
  const sessions = new Set<http2.Http2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  const server = listener;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, bareHost(options.host), () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    engine: "connect",
    host: options.host,
    port,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          for (const session of sessions) session.destroy();
          h1.destroyAll();
        }, graceMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        for (const session of sessions) session.close();
        h1.closeAll();
        undecided();
      }),
  };
}

/** Maps what handlers throw to status codes, for unary and streaming calls alike; logs internal errors. */
function errorMapping(log: ExitLog): Interceptor {
  const mapped = (reason: unknown, method: DescMethod) => {
    const error = undecodable(reason, method) ?? toConnectError(reason);
    if (error.code === Code.Internal || error.code === Code.Unknown) log.error({ err: reason, procedure: method.name }, "handler failed");
    return error;
  };
  return (next) => async (request) => {
    try {
      const response = await next(request);
      if (!response.stream) return response;
      return { ...response, message: mapStreamErrors(response.message, (reason) => mapped(reason, request.method)) };
    } catch (reason) {
      throw mapped(reason, request.method);
    }
  };
}

/**
 * connect-node answers request bytes its decoder refuses with INTERNAL "parse
 * binary: …" (connect-go answers INVALID_ARGUMENT). Where that error passes
 * through here (the messages of a stream are decoded while the handler reads
 * them), it is the caller's bad input and answered as such. A unary request
 * is decoded before any interceptor runs, so its refusal stays connect-node's.
 */
function undecodable(reason: unknown, method: DescMethod): ConnectError | undefined {
  if (!(reason instanceof ConnectError) || reason.code !== Code.Internal || !reason.rawMessage.startsWith("parse binary:"))
    return undefined;
  const why = reason.rawMessage.slice("parse binary:".length).trim();
  return new ConnectError(`the request is not a valid ${method.input.typeName} message: ${excerpt(why, 80)}`, Code.InvalidArgument);
}

async function* mapStreamErrors<T>(messages: AsyncIterable<T>, map: (reason: unknown) => Error): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (reason) {
    throw map(reason);
  }
}
