/**
 * The protection change log on Redis: the stream `P protection-changes`
 * that the tracker store's scripts append to (redis-tracker-scripts.ts), each
 * entry `o` order_no, `v` version, `n` its number from the counter
 * `P protection-changes:seq`. Read with XREAD from the last id seen, on the
 * store's connection (no blocking read: the refresh timer paces it).
 *
 * A gap is told by the numbers, not the ids: the first entry after the
 * reader's position must be the next number. MAXLEN ~ drops whole nodes of
 * the oldest entries; a reader that lagged past them, or a log (or counter)
 * deleted behind its back, sees another number first and re-reads everything.
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
    return last ? { id: last.id, seq: seqOf(last) } : { id: "0-0", seq: 0 };
  }

  async read(position: ChangeLogPosition, limit: number): Promise<ChangeLogRead> {
    const reply = await this.call("read", () => this.client.xRead({ key: this.stream, id: position.id }, { COUNT: limit }));
    const messages = messagesOf(reply);
    const first = messages[0];
    if (!first) return { kind: "changes", changes: [], position };
    if (seqOf(first) !== position.seq + 1) return { kind: "gap" };
    const changes: ProtectionChange[] = messages.map(({ message }) => ({ orderNo: String(message.o), version: Number(message.v) }));
    const last = messages[messages.length - 1]!;
    return { kind: "changes", changes, position: { id: last.id, seq: seqOf(last) } };
  }

  private call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    return redisCommand(`protection change log ${what}`, this.commandTimeoutMs, operation);
  }
}

function seqOf(entry: StreamMessage): number {
  const seq = Number(entry.message.n);
  if (!Number.isSafeInteger(seq)) throw new TradingCoreError("internal", `protection change log entry ${entry.id} has no number`);
  return seq;
}

/** The one stream's messages of an XREAD reply: a list of { name, messages }, null when none came. */
function messagesOf(reply: unknown): StreamMessage[] {
  if (!reply) return [];
  const streams = reply as Array<{ readonly messages: StreamMessage[] }>;
  return streams[0]?.messages ?? [];
}
