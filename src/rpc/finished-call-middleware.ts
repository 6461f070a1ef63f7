/**
 * A middleware told of every call once it has finished: its status code (0
 * when it succeeded) and its duration in ms. The call's own error is always
 * rethrown unchanged; what `finished` does never changes the answer.
 */
import type { CallInfo, CallMiddleware } from "./call-middleware.js";
import { toConnectError } from "./error-codes.js";

export function finishedCallMiddleware(finished: (call: CallInfo, code: number, durationMs: number) => void): CallMiddleware {
  return async (call, next) => {
    const started = performance.now();
    let code = 0;
    try {
      await next();
    } catch (error) {
      code = toConnectError(error).code;
      throw error;
    } finally {
      finished(call, code, performance.now() - started);
    }
  };
}
