/**
 * The request-parsing edge every RPC passes on every engine: before a handler
 * reads a request, the request is held to the input bounds (input-bounds.ts)
 * and to having decoded at all (undecodable-request.ts).
 *
 * Guarantees:
 * - A request that breaks a bound, holds invalid UTF-8 or did not decode
 *   never reaches the handler: nothing is read from a store, locked or
 *   written for it.
 * - It is refused with INVALID_ARGUMENT naming the field, or answered with
 *   the method's own refusal when it has one (ExecuteExit: an INVALID_REQUEST
 *   result, since its contract answers every invalid input with OK).
 * - On a client stream every message is checked as it arrives; the first bad
 *   one ends the call, naming the message by its index.
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { TradingCoreError } from "../../domain/trading-core-error.js";
import { messageCheck } from "./input-bounds.js";
import { UndecodableRequest } from "./undecodable-request.js";

type AnyHandler = (input: unknown, context: unknown) => unknown;

/** Answers a refused request in place of throwing INVALID_ARGUMENT; for methods whose contract says so. */
export type Refusal = (problem: string) => unknown;

/** The same handlers, each behind the request checks of its method. Throws when a request field has no input bound. */
export function guardedHandlers<H extends object>(service: DescService, handlers: H, refusals: Readonly<Record<string, Refusal>> = {}): H {
  const guarded: Record<string, AnyHandler> = {};
  for (const method of service.methods) {
    const handler = (handlers as Record<string, AnyHandler | undefined>)[method.localName];
    if (handler) guarded[method.localName] = guard(method, handler.bind(handlers), refusals[method.localName]);
  }
  return guarded as H;
}

function guard(method: DescMethod, handler: AnyHandler, refusal: Refusal | undefined): AnyHandler {
  const problemOf = requestProblem(method);
  switch (method.methodKind) {
    case "unary":
      return (input, context) => {
        const problem = problemOf(input);
        if (problem === undefined) return handler(input, context);
        if (refusal) return refusal(problem);
        throw invalidRequest(problem);
      };
    case "server_streaming":
      return (input, context) => {
        const problem = problemOf(input);
        if (problem !== undefined) return refused(problem);
        return handler(input, context);
      };
    case "client_streaming":
    case "bidi_streaming":
      return (input, context) => handler(checkedStream(input as AsyncIterable<unknown>, problemOf), context);
  }
}

/** The first problem of one request message of `method`, or undefined when the handler may read it. */
export function requestProblem(method: DescMethod): (input: unknown) => string | undefined {
  const check = messageCheck(method.input);
  return (input) => (input instanceof UndecodableRequest ? input.problem : check(input, ""));
}

async function* checkedStream(
  messages: AsyncIterable<unknown>,
  problemOf: (input: unknown) => string | undefined,
): AsyncGenerator<unknown> {
  let index = 0;
  for await (const message of messages) {
    const problem = problemOf(message);
    if (problem !== undefined) throw invalidRequest(`message ${index}: ${problem}`);
    index++;
    yield message;
  }
}

// biome-ignore lint/correctness/useYield: a stream refused before its first message.
async function* refused(problem: string): AsyncGenerator<never> {
  throw invalidRequest(problem);
}

function invalidRequest(problem: string): TradingCoreError {
  return new TradingCoreError("invalid-argument", problem);
}
