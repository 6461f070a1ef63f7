/**
 * The protection change log in memory, capped at `maxLength` entries (the
 * oldest dropped first, exactly). The embedded server needs none, since its
 * one process tells the book of every change directly; a MemoryTrackerStore
 * given one appends to it, so that several books on one store in a test
 * follow each other the way a fleet on Redis does.
 */
import type { ChangeLogPosition, ChangeLogRead, ProtectionChangeLog } from "../protection/protection-change-log.js";

interface Entry {
  readonly seq: number;
  readonly orderNo: string;
  readonly version: number;
}

export class MemoryProtectionChangeLog implements ProtectionChangeLog {
  private readonly entries: Entry[] = [];
  private appended = 0;

  constructor(private readonly maxLength = 100_000) {}

  /** Records that `orderNo` changed at `version`; the store calls it with the write. */
  append(orderNo: string, version: number): void {
    this.appended += 1;
    this.entries.push({ seq: this.appended, orderNo, version });
    if (this.entries.length > this.maxLength) this.entries.splice(0, this.entries.length - this.maxLength);
  }

  async tip(): Promise<ChangeLogPosition> {
    return positionOf(this.appended);
  }

  async read(position: ChangeLogPosition, limit: number): Promise<ChangeLogRead> {
    const oldest = this.entries[0]?.seq ?? this.appended + 1;
    if (position.seq + 1 < oldest) return { kind: "gap" };
    const from = position.seq + 1 - oldest;
    const entries = this.entries.slice(from, from + limit);
    const last = entries.at(-1);
    return {
      kind: "changes",
      changes: entries.map(({ orderNo, version }) => ({ orderNo, version })),
      position: last ? positionOf(last.seq) : position,
    };
  }
}

function positionOf(seq: number): ChangeLogPosition {
  // Numbers are never reused here: the number alone tells entries apart.
  return { id: String(seq), seq, mark: "" };
}
