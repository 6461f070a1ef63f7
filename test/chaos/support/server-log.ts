/**
 * Reading a chaos server's JSON log lines: how a scenario learns, as an
 * event and not by waiting a fixed time, that a server reached a point
 * (an order placed and its reply held, an error reported).
 */
import type { TradingCoreProcess } from "../../../src/loadtest/tradingcore-process.js";

/** The log line PausedReplyRouter writes once an order is placed and its reply is held. */
export const REPLY_HELD = "fault injection: exit order placed, reply held";

export interface LogEntry {
  readonly msg?: string;
  readonly level?: number;
  readonly orderNo?: string;
  readonly correlationId?: string;
  readonly [field: string]: unknown;
}

/** Log entries of `server` (from line `from` on), only those containing `message` when given. */
export function logEntries(server: TradingCoreProcess, message?: string, from = 0): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const line of server.lines.slice(from)) {
    if (message && !line.includes(message)) continue;
    try {
      entries.push(JSON.parse(line) as LogEntry);
    } catch {
      // not a JSON line
    }
  }
  return entries;
}

/** pino's level number of `error`. */
const ERROR_LEVEL = 50;

/** Error (and fatal) log lines of every server since `mark`, counted by message: what the servers themselves reported. */
export function errorMessages(
  servers: readonly TradingCoreProcess[],
  mark: ReadonlyMap<TradingCoreProcess, number> = new Map(),
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const server of servers) {
    for (const entry of logEntries(server, undefined, mark.get(server) ?? 0)) {
      if ((entry.level ?? 0) < ERROR_LEVEL) continue;
      const message = String(entry.msg ?? "(no message)");
      counts[message] = (counts[message] ?? 0) + 1;
    }
  }
  return counts;
}

/** Polls `done` every 20 ms until it holds; throws naming `what` after `boundMs`. */
export async function waitFor(done: () => boolean | Promise<boolean>, what: string, boundMs: number): Promise<void> {
  const started = Date.now();
  while (!(await done())) {
    if (Date.now() - started > boundMs) throw new Error(`${what}: not within ${boundMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
