/**
 * The audit trail's sequence: 1, 2, 3, … for the whole fleet, one per event,
 * in append order, with no gaps (retention drops the oldest; nothing else
 * does). On Redis it is a counter the append script increments beside the
 * XADD, in the same atomic script, and the event's stream id is `<sequence>-0`.
 *
 * Why a counter rather than the stream's own time-based id: with consecutive
 * numbers a watcher, and the trail itself, can tell a gap from a quiet trail
 * (the successor of sequence S is S + 1), which a resume after retention must
 * decide exactly; a time-based id says nothing of what lies between two ids.
 * The append time is kept in each entry instead (`appendedMs`, never going
 * back), and a time is turned into a sequence by a binary search over the
 * consecutive ids.
 */
import { TradingCoreError } from "../domain/trading-core-error.js";

/** The Redis stream id of a sequence. */
export function sequenceStreamId(sequence: bigint): string {
  return `${sequence}-0`;
}

/** The sequence of a Redis stream id the trail wrote; throws `internal` for any other. */
export function streamIdSequence(id: string): bigint {
  const match = /^(\d+)-0$/.exec(id);
  if (!match) throw new TradingCoreError("internal", `not a trail stream id: ${id}`);
  return BigInt(match[1]!);
}
