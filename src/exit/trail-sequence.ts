/**
 * The audit trail's sequence: one number per event, the same in every process
 * of the fleet, strictly increasing in append order.
 *
 * It is the append time in epoch ms times 1,000,000 plus the event's rank
 * within that ms: a Redis stream id (`<ms>-<rank>`) read as one number. The
 * stream's own id is the sequence (rather than a counter beside the stream)
 * so that one XADD numbers, orders and timestamps an event at once, a resume
 * from a sequence is a range read with no index, and retention by age is the
 * stream's own MINID. Sequences are not consecutive: a gap says nothing; a
 * watcher checks what it missed against the trail, never by counting.
 */
import { TradingCoreError } from "../domain/trading-core-error.js";

export const RANKS_PER_MS = 1_000_000n;

export function trailSequence(ms: number, rank: number): bigint {
  if (!Number.isSafeInteger(ms) || ms < 0 || !Number.isSafeInteger(rank) || rank < 0 || BigInt(rank) >= RANKS_PER_MS) {
    throw new TradingCoreError("internal", `no trail sequence for append time ${ms} ms, rank ${rank}`);
  }
  return BigInt(ms) * RANKS_PER_MS + BigInt(rank);
}

/** The epoch ms at which the event of this sequence was appended. */
export function sequenceTimeMs(sequence: bigint): number {
  return Number(sequence / RANKS_PER_MS);
}

/** The smallest sequence an event appended at `ms` (epoch) can have. */
export function firstSequenceAt(ms: number): bigint {
  return BigInt(Math.max(0, Math.floor(ms))) * RANKS_PER_MS;
}

/** The Redis stream id of a sequence: `<ms>-<rank>`. */
export function sequenceStreamId(sequence: bigint): string {
  return `${sequence / RANKS_PER_MS}-${sequence % RANKS_PER_MS}`;
}

/** The sequence of a Redis stream id; throws `internal` for one no trail wrote. */
export function streamIdSequence(id: string): bigint {
  const match = /^(\d+)-(\d+)$/.exec(id);
  if (!match) throw new TradingCoreError("internal", `not a stream id: ${id}`);
  return trailSequence(Number(match[1]), Number(match[2]));
}
