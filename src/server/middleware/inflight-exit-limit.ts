/**
 * Caps the exits running at once on one connection, as call middleware on
 * every engine: past `maxPerConnection`, ExecuteExit and ExitAll answer
 * RESOURCE_EXHAUSTED at once, before any lock is taken or order sent, so one
 * runaway caller cannot queue unbounded work. Other RPCs are not counted.
 *
 * A slot is held until the handler has finished, not only until the caller
 * got an answer: an exit whose caller's deadline passed still holds its slot
 * while it completes its intent.
 */
import { ExitService } from "../../../gen/tradingcore/v1/exit_pb.js";
import { TradingCoreError } from "../../domain/trading-core-error.js";
import type { CallMiddleware } from "../../rpc/call-middleware.js";

const LIMITED_METHODS = new Set(["ExecuteExit", "ExitAll"]);

export function inflightExitLimit(maxPerConnection: number): CallMiddleware {
  const inflight = new Map<string, number>();
  return async (call, next) => {
    if (call.service !== ExitService.typeName || !LIMITED_METHODS.has(call.method)) return next();
    // The slot is taken and given back under one key, read once now: a peer read again later (after the
    // client went away, grpc-js answers "unknown") would release another key's slot and leak this one.
    const connection = call.peer;
    const running = inflight.get(connection) ?? 0;
    if (running >= maxPerConnection) {
      throw new TradingCoreError(
        "resource-exhausted",
        `${maxPerConnection} exits are already running on this connection; retry when one finishes`,
      );
    }
    inflight.set(connection, running + 1);
    try {
      await next();
    } finally {
      const left = (inflight.get(connection) ?? 1) - 1;
      if (left === 0) inflight.delete(connection);
      else inflight.set(connection, left);
    }
  };
}
