/**
 * grpc-js's own log lines (it logs, for instance, a metadata value it cannot
 * add, header value included) go through the process's pino logger instead
 * of straight to stderr, at our log level, and redacted.
 *
 * Guarantees:
 * - Nothing grpc-js logs reaches stderr itself; at `silent` it logs nothing.
 * - A line never carries a configured secret (the auth token, the broker
 *   token) nor whatever follows "authorization" or "bearer" in it: a header
 *   value there may be a token, or text a caller chose to write into our log.
 * - A line is at most MAX_GRPC_JS_LINE_CHARS long, whatever a caller sent.
 *
 * grpc-js keeps one logger per process (setLogger, setLogVerbosity), so the
 * last server started in a process owns it; the secrets of every server
 * started are redacted.
 */
import { format } from "node:util";
import * as grpc from "@grpc/grpc-js";

export const MAX_GRPC_JS_LINE_CHARS = 512;

export interface GrpcJsLogTarget {
  readonly level: string;
  error(fields: object, message: string): void;
  info(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

const secrets = new Set<string>();
/** Words after which the rest of a line is dropped: a header value may follow. */
const CUT_AFTER = ["authorization", "bearer"];
const FIELDS = { component: "grpc-js" };

/** Routes grpc-js's log to `log`, redacting `secretsToHide` (empty strings are ignored). */
export function routeGrpcJsLog(log: GrpcJsLogTarget, secretsToHide: readonly string[]): void {
  for (const secret of secretsToHide) if (secret !== "") secrets.add(secret);
  const line = (message: unknown, rest: unknown[]) => redactGrpcJsLine(format(message, ...rest), secrets);
  grpc.setLogger({
    error: (message?: unknown, ...rest: unknown[]) => log.error(FIELDS, line(message, rest)),
    info: (message?: unknown, ...rest: unknown[]) => log.info(FIELDS, line(message, rest)),
    debug: (message?: unknown, ...rest: unknown[]) => log.debug(FIELDS, line(message, rest)),
  });
  grpc.setLogVerbosity(verbosityOf(log.level));
}

/** grpc-js's verbosity for a pino level: it has no warn or fatal, and nothing below debug. */
export function verbosityOf(level: string): grpc.logVerbosity {
  switch (level) {
    case "error":
    case "warn":
      return grpc.logVerbosity.ERROR;
    case "info":
      return grpc.logVerbosity.INFO;
    case "debug":
    case "trace":
      return grpc.logVerbosity.DEBUG;
    default:
      return grpc.logVerbosity.NONE;
  }
}

/**
 * `text` without any of `hidden`, cut after the first "authorization" or
 * "bearer" (any case), then bounded in length. Secrets go first, on the
 * whole text, so that a cut never leaves the start of one behind.
 */
export function redactGrpcJsLine(text: string, hidden: Iterable<string>): string {
  let line = text;
  for (const secret of hidden) line = line.split(secret).join("[redacted]");
  const lower = line.toLowerCase();
  let cut = line.length;
  for (const word of CUT_AFTER) {
    const at = lower.indexOf(word);
    if (at >= 0) cut = Math.min(cut, at + word.length);
  }
  if (cut < line.length) line = `${line.slice(0, cut)} [redacted]`;
  return line.length > MAX_GRPC_JS_LINE_CHARS ? `${line.slice(0, MAX_GRPC_JS_LINE_CHARS)}…` : line;
}
