/**
 * Runs the call middleware on the Connect engine, by wrapping each handler of
 * a ServiceImpl. Streams are driven inside the middleware chain, so a
 * middleware's `next` covers the whole stream, and the handler sees the
 * context values the middleware set, exactly as on the grpc-js engine.
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { type CallInfo, type CallMiddleware, headersOf, runMiddleware } from "../../rpc/call-middleware.js";
import { PEER } from "./connect-peer.js";

type AnyHandler = (input: unknown, context: HandlerContext) => unknown;

/** The same handlers, each run inside `middleware`; returned unchanged when there is none. */
export function withConnectMiddleware<H extends object>(service: DescService, handlers: H, middleware: readonly CallMiddleware[]): H {
  if (middleware.length === 0) return handlers;
  const wrapped: Record<string, AnyHandler> = {};
  for (const method of service.methods) {
    const handler = (handlers as Record<string, AnyHandler | undefined>)[method.localName];
    if (handler) wrapped[method.localName] = wrapHandler(method, handler.bind(handlers), middleware);
  }
  return wrapped as H;
}

function wrapHandler(method: DescMethod, handler: AnyHandler, middleware: readonly CallMiddleware[]): AnyHandler {
  switch (method.methodKind) {
    case "unary":
    case "client_streaming":
      return async (input, context) => {
        let response: unknown;
        await runMiddleware(middleware, callInfoOf(method, context), async () => {
          response = await handler(input, context);
        });
        return response;
      };
    case "server_streaming":
    case "bidi_streaming":
      return (input, context) =>
        pump((emit) =>
          runMiddleware(middleware, callInfoOf(method, context), async () => {
            for await (const message of handler(input, context) as AsyncIterable<unknown>) await emit(message);
          }),
        );
  }
}

function callInfoOf(method: DescMethod, context: HandlerContext): CallInfo {
  return {
    service: method.parent.typeName,
    method: method.name,
    kind: method.methodKind,
    engine: "connect",
    protocol: context.protocolName,
    headers: headersOf(context.requestHeader),
    peer: context.values.get(PEER),
    signal: context.signal,
    values: context.values,
  };
}

/**
 * Turns a producer that emits messages into an async iterable, one message
 * in flight: the producer's `emit` resolves once the consumer has taken the
 * message and asked for the next. When the consumer stops early, a pending
 * `emit` rejects so the producer stops too.
 */
async function* pump<T>(produce: (emit: (message: T) => Promise<void>) => Promise<void>): AsyncGenerator<T> {
  let pending: { message: T; taken: () => void; refused: (reason: Error) => void } | undefined;
  let wake: (() => void) | undefined;
  let closed = false;
  let outcome: { failed: false } | { failed: true; reason: unknown } | undefined;
  const emit = (message: T) =>
    new Promise<void>((taken, refused) => {
      if (closed) return refused(new Error("the stream was closed by its consumer"));
      pending = { message, taken, refused };
      wake?.();
    });
  produce(emit)
    .then(
      () => (outcome = { failed: false }),
      (reason: unknown) => (outcome = { failed: true, reason }),
    )
    .finally(() => wake?.());
  try {
    for (;;) {
      if (pending) {
        const current = pending;
        pending = undefined;
        yield current.message;
        current.taken();
        continue;
      }
      if (outcome) {
        if (outcome.failed) throw outcome.reason;
        return;
      }
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    closed = true;
    pending?.refused(new Error("the stream was closed by its consumer"));
  }
}
