/**
 * QueryExits over the trail: the events of a time range that match a filter,
 * a page at a time, for post-trade review.
 *
 * The trail is read in sequence order from the page's start and filtered
 * here; one call scans at most `scanBudget` events, so a selective filter
 * over a long range answers a short (even empty) page with a next cursor
 * rather than reading the whole trail in one call. A start that retention has
 * passed is refused with `out-of-range` (trail-watch.ts): a review must not
 * read an incomplete range as complete. An unset start means the oldest kept.
 */
import type { ExitReasonCode, ExitStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { ExitEventKind } from "../../gen/tradingcore/v1/exit_pb.js";
import type { ExitTrail, SequencedExitEvent } from "./exit-trail.js";
import { refuseTrimmed, sequenceBeforeTime } from "./trail-watch.js";

export const DEFAULT_SCAN_BUDGET = 10_000;
const READ_PAGE = 512;

export interface TrailFilter {
  /** Appended at or after, epoch ms. */
  readonly fromMs?: number;
  /** Appended before, epoch ms. */
  readonly toMs?: number;
  readonly orderNo?: string;
  readonly status?: ExitStatus;
  readonly kind?: ExitEventKind;
  readonly reasonCode?: ExitReasonCode;
  /** Text the tracker's exit reason contains. */
  readonly reason?: string;
}

export interface TrailQueryPage {
  readonly events: SequencedExitEvent[];
  /** The last sequence scanned, to continue after; absent when the range is read to its end. */
  readonly nextAfter?: bigint;
}

export async function queryTrail(
  trail: ExitTrail,
  filter: TrailFilter,
  page: { readonly after?: bigint; readonly limit: number },
  scanBudget = DEFAULT_SCAN_BUDGET,
): Promise<TrailQueryPage> {
  const start = page.after ?? (filter.fromMs === undefined ? undefined : await sequenceBeforeTime(trail, filter.fromMs));
  if (start !== undefined) await refuseTrimmed(trail, start);
  const before = filter.toMs === undefined ? undefined : await endBefore(trail, filter.toMs);
  const events: SequencedExitEvent[] = [];
  let cursor = start ?? -1n;
  let scanned = 0;
  while (scanned < scanBudget) {
    const asked = Math.min(READ_PAGE, scanBudget - scanned);
    const read = await trail.read({ after: cursor, ...(before === undefined ? {} : { before }) }, asked);
    for (const event of read) {
      cursor = event.sequence;
      scanned++;
      if (!matches(event, filter)) continue;
      events.push(event);
      if (events.length === page.limit) return { events, nextAfter: cursor };
    }
    if (read.length < asked) return { events };
  }
  return { events, nextAfter: cursor };
}

/** The first sequence appended at or after `ms`: the range's end, excluded. */
async function endBefore(trail: ExitTrail, ms: number): Promise<bigint> {
  const before = await trail.sequenceBefore(ms);
  // Undefined: every kept event was appended at or after `ms`, so none of them is in range.
  return before === undefined ? (await trail.trimmedThrough()) + 1n : before + 1n;
}

function matches(event: SequencedExitEvent, filter: TrailFilter): boolean {
  if (filter.orderNo !== undefined && event.tracker.orderNo !== filter.orderNo) return false;
  if (filter.status !== undefined && event.status !== filter.status) return false;
  if (filter.kind !== undefined && event.kind !== filter.kind) return false;
  if (filter.reasonCode !== undefined && event.tracker.exitReasonCode !== filter.reasonCode) return false;
  if (filter.reason !== undefined && !event.tracker.exitReason.includes(filter.reason)) return false;
  return true;
}
