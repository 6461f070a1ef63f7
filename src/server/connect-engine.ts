/**
 * Serves the handlers with @connectrpc/connect-node on HTTP/2 (cleartext, or
 * TLS when material is given): gRPC, gRPC-Web and Connect on one port.
 */
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { ExitLog } from "../exit/ports.js";
import { peerContextValues } from "./connect-peer.js";
import { excerpt } from "../domain/text-excerpt.js";
import { toConnectError } from "./error-codes.js";
import { guardSessions, type SessionLimits } from "./http2-session-guard.js";
import { bareHost } from "./listen-host.js";
import type { TlsMaterial } from "./tls-material.js";

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
}

export async function startConnectEngine(options: ConnectEngineOptions): Promise<RunningEngine> {
  const handler = connectNodeAdapter({
    routes: options.routes,
    interceptors: [errorMapping(options.log), ...(options.interceptors ?? [])],
    ...(options.maxMessageBytes ? { readMaxBytes: options.maxMessageBytes } : {}),
    contextValues: peerContextValues,
  });
  const settings: http2.Settings = options.maxConcurrentStreams ? { maxConcurrentStreams: options.maxConcurrentStreams } : {};
  const tls = options.tls;
  const server = tls
    ? http2.createSecureServer(
        {
          cert: tls.cert,
          key: tls.key,
          settings,
          ...(options.sessionLimits ? { handshakeTimeout: options.sessionLimits.handshakeTimeoutMs } : {}),
          ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
        },
        handler,
      )
    : http2.createServer({ settings }, handler);
  if (options.sessionLimits) guardSessions(server, options.sessionLimits);
  const sessions = new Set<http2.Http2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
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
        }, graceMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        for (const session of sessions) session.close();
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
  if (!(reason instanceof ConnectError) || reason.code !== Code.Internal || !reason.rawMessage.startsWith("parse binary:")) return undefined;
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
