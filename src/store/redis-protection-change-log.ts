/**
 * The protection change log on Redis: the stream `P protection-changes`
 * that the tracker store's scripts append to (redis-tracker-scripts.ts), each
 * entry `o` order_no, `v` version, `n` its number from the counter
 * `P protection-changes:seq`. Read on the store's connection (no blocking
 * read: the refresh timer paces it) with one XRANGE from the reader's own
 * last entry, inclusive.
 *
 * A gap is told two ways, each answering `gap` (a full re-read, which is
 * always safe): the reader's last entry is no longer in the stream (MAXLEN ~
 * dropped it, or a failover to a replica lost it, with whatever followed),
 * or the entry after it is not the next number (the log or its counter was
 * deleted and started again). Its own entry is known by id, number and
 * content together: a log started again within the same millisecond reuses
 * ids and numbers. A reader whose own entry was trimmed while the
 * next one was kept re-reads everything too: rare, and never a miss.
 */
import type { ChangeLogPosition, ChangeLogRead, ProtectionChange, ProtectionChangeLog } from "../protection/protection-change-log.js";
import { TradingCoreError } from "../domain/trading-core-error.js";
import { redisCommand } from "./redis-command.js";
import type { RedisTrackerClient } from "./redis-tracker-client.js";

/** The stream and its counter under `keyPrefix`; the tracker store writes both. */
export function protectionChangeLogKeys(keyPrefix: string): [stream: string, counter: string] {
  return [`${keyPrefix}protection-changes`, `${keyPrefix}protection-changes:seq`];
}

interface StreamMessage {
  readonly id: string;
  readonly message: Record<string, string>;
}

export class RedisProtectionChangeLog implements ProtectionChangeLog {
  private readonly stream: string;

  constructor(
    private readonly client: RedisTrackerClient,
    keyPrefix: string,
    private readonly commandTimeoutMs: number,
  ) {
    [this.stream] = protectionChangeLogKeys(keyPrefix);
  }

  async tip(): Promise<ChangeLogPosition> {
    const newest = (await this.call("tip", () => this.client.xRevRange(this.stream, "+", "-", { COUNT: 1 }))) as StreamMessage[];
    const last = newest[0];
    return last ? positionOf(last) : { id: "0-0", seq: 0, mark: "" };
  }

  async read(position: ChangeLogPosition, limit: number): Promise<ChangeLogRead> {
    const fromStart = position.seq === 0;
    const range = (await this.call("read", () =>
      this.client.xRange(this.stream, fromStart ? "-" : position.id, "+", { COUNT: fromStart ? limit : limit + 1 }),
    )) as StreamMessage[];
    if (!fromStart) {
      const own = range.shift();
      if (!own || own.id !== position.id || seqOf(own) !== position.seq || markOf(own) !== position.mark) return { kind: "gap" };
    }
    const first = range[0];
    if (!first) return { kind: "changes", changes: [], position };
    if (seqOf(first) !== position.seq + 1) return { kind: "gap" };
    const changes: ProtectionChange[] = range.map(({ message }) => ({ orderNo: String(message.o), version: Number(message.v) }));
    const last = range[range.length - 1]!;
    return { kind: "changes", changes, position: positionOf(last) };
  }

  private call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    return redisCommand(`protection change log ${what}`, this.commandTimeoutMs, operation);
  }
}

function positionOf(entry: StreamMessage): ChangeLogPosition {
  return { id: entry.id, seq: seqOf(entry), mark: markOf(entry) };
}

function markOf(entry: StreamMessage): string {
  return `${entry.message.o}@${entry.message.v}`;
}

function seqOf(entry: StreamMessage): number {
  const seq = Number(entry.message.n);
  if (!Number.isSafeInteger(seq)) throw new TradingCoreError("internal", `protection change log entry ${entry.id} has no number`);
  return seq;
}
