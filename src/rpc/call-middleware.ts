/**
 * Call middleware: work that runs around every RPC on every engine (tracing,
 * logging, auth, limits), written once and independent of the transport.
 *
 * A middleware receives what it may need to decide (service, method, request
 * headers, the engine) and `next`, which runs the rest of the chain and then
 * the handler. `next` settles when the whole call is done: for a unary or
 * client-streaming call when the response is ready, for a server stream when
 * its last message has been handed to the transport (or the call failed or
 * was cancelled). So a middleware that awaits `next` wraps the whole call,
 * streams included. What a middleware hands to the handler goes in the
 * call's context `values` (the call's trace, for instance).
 *
 * To refuse a call, throw (a TradingCoreError or ConnectError); the engine
 * answers with its status code, and the handler never runs. A middleware must
 * call `next` at most once.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import type { ContextValues } from "@connectrpc/connect";

/** Request headers (gRPC metadata); names are lower-case. */
export interface CallHeaders {
  /** The first value of a header, or undefined. Binary (`-bin`) headers are not exposed. */
  get(name: string): string | undefined;
}

export type MethodKind = DescMethod["methodKind"];

export interface CallInfo {
  /** Fully-qualified service name, e.g. `tradingcore.v1.ExitService`. */
  readonly service: string;
  /** Method name as in the proto, e.g. `ExecuteExit`. */
  readonly method: string;
  readonly kind: MethodKind;
  /** Which engine serves the call. */
  readonly engine: EngineName;
  /** `grpc`, `grpc-web` or `connect`. */
  readonly protocol: string;
  readonly headers: CallHeaders;
  /** The caller's connection, `address:port` as the engine sees it: the key of per-connection limits. */
  readonly peer: string;
  /** Aborts when the client cancels or the deadline passes. */
  readonly signal: AbortSignal;
  /** The handler's context values: what a middleware hands to the handler (the call's trace, for instance). */
  readonly values: ContextValues;
}

export type EngineName = "grpc-js" | "connect";

/** Runs around one call; must await (or return) `next()` exactly once to let the call through. */
export type CallMiddleware = (call: CallInfo, next: () => Promise<void>) => Promise<void>;

/**
 * Runs `terminal` (the handler) inside `middleware`, the first one outermost.
 * With no middleware, `terminal` is called directly.
 */
export function runMiddleware(middleware: readonly CallMiddleware[], call: CallInfo, terminal: () => Promise<void>): Promise<void> {
  if (middleware.length === 0) return terminal();
  const step = (index: number): Promise<void> => {
    if (index === middleware.length) return terminal();
    let called = false;
    return middleware[index]!(call, () => {
      if (called) return Promise.reject(new Error(`call middleware ${index} called next() twice`));
      called = true;
      return step(index + 1);
    });
  };
  return step(0);
}

/** Headers over a fetch `Headers` object (the Connect engine's request headers). */
export function headersOf(headers: Headers): CallHeaders {
  return { get: (name) => headers.get(name) ?? undefined };
}
