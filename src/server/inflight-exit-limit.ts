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
import { ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { CallMiddleware } from "./call-middleware.js";

const LIMITED_METHODS = new Set(["ExecuteExit", "ExitAll"]);

export function inflightExitLimit(maxPerConnection: number): CallMiddleware {
  const inflight = new Map<string, number>();
  return async (call, next) => {
    if (call.service !== ExitService.typeName || !LIMITED_METHODS.has(call.method)) return next();
    const running = inflight.get(call.peer) ?? 0;
    if (running >= maxPerConnection) {
      throw new TradingCoreError("resource-exhausted", `${maxPerConnection} exits are already running on this connection; retry when one finishes`);
    }
    inflight.set(call.peer, running + 1);
    try {
      await next();
    } finally {
      const left = (inflight.get(call.peer) ?? 1) - 1;
      if (left === 0) inflight.delete(call.peer);
      else inflight.set(call.peer, left);
    }
  };
}
