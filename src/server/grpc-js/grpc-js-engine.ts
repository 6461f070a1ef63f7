/**
 * Serves the same handlers (connect ServiceImpls) with a @grpc/grpc-js
 * server: gRPC only, about 7× less server CPU per call than connect-node on
 * this kind of machine (docs/design.md section 7), so it is the default for gRPC
 * clients.
 *
 * Guarantees:
 * - The call middleware runs around every call, as on the Connect engine.
 * - What a handler throws becomes a status through error-codes.ts, the same
 *   mapping as the Connect engine; internal details stay in the log.
 * - The handler's `context.signal` aborts when the client cancels, the
 *   deadline passes or the server is forced down.
 * - A request whose bytes do not decode reaches the handler edge as what
 *   `tolerantDeserializer` makes of it, never as grpc-js's INTERNAL.
 */
import { create, isMessage, type DescMessage, type DescMethod, type DescService } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import type { ExitLog } from "../../exit/ports.js";
import { grpcJsMethodDefinition } from "../../rpc/grpc-js-definition.js";
import type { CallInfo, CallMiddleware } from "../../rpc/call-middleware.js";
import { runMiddleware } from "../../rpc/call-middleware.js";
import type { RunningEngine } from "../connect/connect-engine.js";
import { toConnectError } from "../../rpc/error-codes.js";
import { GrpcJsHandlerContext } from "./grpc-js-handler-context.js";
import type { SessionLimits } from "../http2-session-guard.js";
import { hostPort } from "../listen-host.js";
import type { TlsMaterial } from "../tls-material.js";
import { tolerantDeserializer } from "../middleware/undecodable-request.js";

/** A service and its handlers, as `tradingCoreServices()` lists them. */
export interface ServiceRegistration {
  readonly service: DescService;
  readonly handlers: object;
}

export interface GrpcJsEngineOptions {
  readonly host: string;
  readonly port: number;
  readonly services: readonly ServiceRegistration[];
  readonly middleware?: readonly CallMiddleware[];
  readonly log: ExitLog;
  /** Largest request message accepted, bytes. */
  readonly maxMessageBytes?: number;
  /** Most calls open at once on one connection. */
  readonly maxConcurrentStreams?: number;
  /** TLS (and mTLS) material; cleartext when absent. */
  readonly tls?: TlsMaterial;
  /** Keepalive and idle bounds of each connection (grpc-js has no handshake bound: an unanswered ping ends such a connection). */
  readonly sessionLimits?: SessionLimits;
}

type AnyHandler = (input: unknown, context: GrpcJsHandlerContext) => unknown;

export async function startGrpcJsEngine(options: GrpcJsEngineOptions): Promise<RunningEngine> {
  const server = new grpc.Server({
    ...(options.maxMessageBytes ? { "grpc.max_receive_message_length": options.maxMessageBytes } : {}),
    ...(options.maxConcurrentStreams ? { "grpc.max_concurrent_streams": options.maxConcurrentStreams } : {}),
    ...(options.sessionLimits ? sessionOptions(options.sessionLimits) : {}),
  });
  const middleware = options.middleware ?? [];
  for (const { service, handlers } of options.services) {
    const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const method of service.methods) {
      const handler = (handlers as Record<string, AnyHandler | undefined>)[method.localName];
      if (!handler) continue;
      const methodDefinition = grpcJsMethodDefinition(method);
      definition[method.localName] = {
        ...methodDefinition,
        requestDeserialize: tolerantDeserializer(method.input, methodDefinition.requestDeserialize),
      };
      implementation[method.localName] = grpcJsHandler(method, handler.bind(handlers), middleware, options.log);
    }
    server.addService(definition as grpc.ServiceDefinition, implementation);
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(hostPort(options.host, options.port), credentialsOf(options.tls), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    engine: "grpc-js",
    host: options.host,
    port,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

function grpcJsHandler(
  method: DescMethod,
  handler: AnyHandler,
  middleware: readonly CallMiddleware[],
  log: ExitLog,
): grpc.UntypedHandleCall {
  const fail = (reason: unknown) => toServiceError(reason, method, log);
  switch (method.methodKind) {
    case "unary":
    case "client_streaming":
      return (
        call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        const context = new GrpcJsHandlerContext(method, call);
        const input = method.methodKind === "unary" ? (call as grpc.ServerUnaryCall<unknown, unknown>).request : call;
        let response: unknown;
        runMiddleware(middleware, new GrpcJsCallInfo(method, context), async () => {
          response = messageOf(method.output, await handler(input, context));
        }).then(
          () => {
            context.finish();
            callback(null, response, context.trailerMetadata());
          },
          (reason: unknown) => {
            context.finish();
            callback(fail(reason));
          },
        );
      };
    case "server_streaming":
    case "bidi_streaming":
      return (call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>) => {
        const context = new GrpcJsHandlerContext(method, call);
        const input = method.methodKind === "server_streaming" ? (call as grpc.ServerWritableStream<unknown, unknown>).request : call;
        runMiddleware(middleware, new GrpcJsCallInfo(method, context), () =>
          writeAll(call, method.output, handler(input, context) as AsyncIterable<unknown>, context),
        )
          .then(
            () => {
              if (!call.cancelled) call.end(context.trailerMetadata());
            },
            (reason: unknown) => {
              if (!call.cancelled) call.emit("error", fail(reason));
            },
          )
          .finally(() => context.finish());
      };
  }
}

type WritableCall = grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;

/** Writes every message, waiting for "drain" when the transport is full; one drain and one abort listener per stream. */
async function writeAll(call: WritableCall, schema: DescMessage, messages: AsyncIterable<unknown>, context: GrpcJsHandlerContext) {
  const signal = context.signal;
  let resume: (() => void) | undefined;
  const wake = () => {
    const waiting = resume;
    resume = undefined;
    waiting?.();
  };
  call.on("drain", wake);
  signal.addEventListener("abort", wake, { once: true });
  try {
    for await (const message of messages) {
      if (signal.aborted) break;
      if (!call.write(messageOf(schema, message)) && !signal.aborted) await new Promise<void>((resolve) => (resume = resolve));
    }
  } finally {
    call.off("drain", wake);
    signal.removeEventListener("abort", wake);
  }
}

/** A call as the middleware sees it; peer, signal and values are read from the context only when asked for. */
class GrpcJsCallInfo implements CallInfo {
  readonly service: string;
  readonly method: string;
  readonly kind: CallInfo["kind"];
  readonly engine = "grpc-js";
  readonly protocol = "grpc";
  readonly headers: CallInfo["headers"];

  constructor(
    descriptor: DescMethod,
    private readonly context: GrpcJsHandlerContext,
  ) {
    this.service = descriptor.parent.typeName;
    this.method = descriptor.name;
    this.kind = descriptor.methodKind;
    this.headers = context.callHeaders;
  }

  private peerAtStart: string | undefined;

  /** Read from the call once: grpc-js answers "unknown" once the client's connection is gone. */
  get peer(): string {
    return (this.peerAtStart ??= this.context.peer);
  }

  get signal(): AbortSignal {
    return this.context.signal;
  }

  get values(): CallInfo["values"] {
    return this.context.values;
  }
}

/** Handlers may return an init shape (a plain object); the serializer needs a message. */
function messageOf(schema: DescMessage, value: unknown): unknown {
  return isMessage(value, schema) ? value : create(schema, value as never);
}

function toServiceError(reason: unknown, method: DescMethod, log: ExitLog): Partial<grpc.StatusObject> {
  const error = toConnectError(reason);
  const code = error.code as number as grpc.status;
  if (code === grpc.status.INTERNAL || code === grpc.status.UNKNOWN) log.error({ err: reason, procedure: method.name }, "handler failed");
  return { code, details: error.rawMessage };
}

/** grpc-js's server options for the connection bounds; 0 (off) leaves grpc-js's default, which is off. */
function sessionOptions(limits: SessionLimits): grpc.ServerOptions {
  return {
    ...(limits.keepaliveIntervalMs > 0
      ? { "grpc.keepalive_time_ms": limits.keepaliveIntervalMs, "grpc.keepalive_timeout_ms": limits.keepaliveTimeoutMs }
      : {}),
    ...(limits.idleTimeoutMs > 0 ? { "grpc.max_connection_idle_ms": limits.idleTimeoutMs } : {}),
  };
}

function credentialsOf(tls: TlsMaterial | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    tls.clientCa ?? null,
    [{ private_key: tls.key, cert_chain: tls.cert }],
    tls.clientCa !== undefined,
  );
}
