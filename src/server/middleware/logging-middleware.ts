/**
 * Logs every call at debug level: service, method, engine, status code and
 * duration (ms). Installed only when debug logging is on, so it costs nothing
 * otherwise. Never logs request headers or messages (they may carry tokens).
 */
import type { CallMiddleware } from "../../rpc/call-middleware.js";
import { toConnectError } from "../../rpc/error-codes.js";

export interface DebugLog {
  debug(fields: object, message: string): void;
  isLevelEnabled(level: string): boolean;
}

/** The logging middleware, or undefined when the log would drop its lines anyway. */
export function loggingMiddleware(log: DebugLog): CallMiddleware | undefined {
  if (!log.isLevelEnabled("debug")) return undefined;
  return async (call, next) => {
    const started = performance.now();
    let code = 0;
    try {
      await next();
    } catch (error) {
      code = toConnectError(error).code;
      throw error;
    } finally {
      const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
      log.debug({ rpc: `${call.service}/${call.method}`, engine: call.engine, protocol: call.protocol, code, durationMs }, "call finished");
    }
  };
}
