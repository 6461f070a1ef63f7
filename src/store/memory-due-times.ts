/**
 * The embedded due times, for a single process (lost with it, as the embedded trackers are).
 *
 * Every tracker with a session-end default has a due time, and the scheduler claims what is due
 * every second: the entries are kept in a min-heap by due time beside the map that holds each key's
 * current one, so a pass costs O(k log n) for the k entries due, not a sort of all of them. A heap
 * entry whose key was moved, claimed or cancelled since is stale and dropped when it comes up; the
 * heap is rebuilt from the map when stale entries outnumber the live ones.
 */
import type { DueClaim, DueTimes } from "../protection/due-times.js";

interface HeapEntry {
  readonly dueMs: number;
  readonly key: string;
}

/** Earliest first; keys in order between equal times (as the Redis sorted set orders its members). */
function before(a: HeapEntry, b: HeapEntry): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.key < b.key);
}

export class MemoryDueTimes implements DueTimes {
  private readonly due = new Map<string, number>();
  private heap: HeapEntry[] = [];

  async schedule(key: string, dueMs: number): Promise<void> {
    this.set(key, dueMs);
  }

  async cancel(key: string): Promise<void> {
    this.due.delete(key);
  }

  async claimDue(nowMs: number, leaseMs: number, limit: number): Promise<DueClaim[]> {
    const claims: DueClaim[] = [];
    const claimed = new Set<string>();
    const leaseUntilMs = nowMs + leaseMs;
    while (claims.length < limit && this.heap.length > 0 && this.heap[0]!.dueMs <= nowMs) {
      const { key, dueMs } = this.pop();
      if (this.due.get(key) !== dueMs || claimed.has(key)) continue;
      claimed.add(key);
      claims.push({ key, dueMs, leaseUntilMs });
    }
    // Leased after the loop, so that a lease already over by `nowMs` does not come up again in it.
    for (const claim of claims) {
      this.due.set(claim.key, leaseUntilMs);
      this.push({ key: claim.key, dueMs: leaseUntilMs });
    }
    this.compactIfStale();
    return claims;
  }

  async complete(claim: DueClaim): Promise<void> {
    if (this.due.get(claim.key) === claim.leaseUntilMs) this.due.delete(claim.key);
  }

  async dueTimeOf(key: string): Promise<number | undefined> {
    return this.due.get(key);
  }

  private set(key: string, dueMs: number): void {
    // Every due time held has an entry in the heap: the same one again needs no second.
    if (this.due.get(key) === dueMs) return;
    this.due.set(key, dueMs);
    this.push({ key, dueMs });
    this.compactIfStale();
  }

  private compactIfStale(): void {
    if (this.heap.length <= 2 * this.due.size + 64) return;
    this.heap = [];
    for (const [key, dueMs] of this.due) this.push({ key, dueMs });
  }

  private push(entry: HeapEntry): void {
    const heap = this.heap;
    let at = heap.push(entry) - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!before(entry, heap[parent]!)) break;
      heap[at] = heap[parent]!;
      at = parent;
    }
    heap[at] = entry;
  }

  private pop(): HeapEntry {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, last)) break;
      heap[at] = heap[child]!;
      at = child;
    }
    heap[at] = last;
    return top;
  }
}
