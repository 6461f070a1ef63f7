/**
 * Logs every call at debug level: service, method, engine, status code and
 * duration (ms). Installed only when debug logging is on, so it costs nothing
 * otherwise. Never logs request headers or messages (they may carry tokens).
 */
import type { CallMiddleware } from "../../rpc/call-middleware.js";
import { finishedCallMiddleware } from "../../rpc/finished-call-middleware.js";

export interface DebugLog {
  debug(fields: object, message: string): void;
  isLevelEnabled(level: string): boolean;
}

/** The logging middleware, or undefined when the log would drop its lines anyway. */
export function loggingMiddleware(log: DebugLog): CallMiddleware | undefined {
  if (!log.isLevelEnabled("debug")) return undefined;
  return finishedCallMiddleware((call, code, durationMs) =>
    log.debug(
      {
        rpc: `${call.service}/${call.method}`,
        engine: call.engine,
        protocol: call.protocol,
        code,
        durationMs: Math.round(durationMs * 1000) / 1000,
      },
      "call finished",
    ),
  );
}
