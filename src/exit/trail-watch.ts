/**
 * WatchExits over the trail: replay from a sequence or a time, then follow
 * live, with no gap and no repeat at the switch.
 *
 * The switch: the replay reads pages until it has caught up; it then starts
 * the live watch (from the hub, which the trail's follower feeds in sequence
 * order) and reads the trail once more until caught up again. Everything the
 * live watch did not get was in the trail before the live watch started, so
 * that last read has it; live events at or below the last sequence replayed
 * are skipped. The live watch's buffer only holds what arrives during that
 * last read, so a long replay does not fill it.
 *
 * A start the trail no longer keeps events after (retention) is refused with
 * `out-of-range`, naming the oldest sequence kept: a silent start at the
 * oldest kept would hide a gap in an audit trail. So is a sequence past the
 * newest event, which this trail never issued.
 */
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { ExitEventHub, WatchOptions } from "./exit-event-hub.js";
import type { ExitTrail, SequencedExitEvent } from "./exit-trail.js";

export const REPLAY_PAGE = 256;

export interface TrailWatchOptions {
  /** Only events of this tracker; every tracker when absent. */
  readonly orderNo?: string;
  /** Replay the events after this sequence. */
  readonly afterSequence?: bigint;
  /** Replay the events appended at or after this time, epoch ms (when `afterSequence` is absent). */
  readonly fromMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * The events a watch gets, replay first; fails with `out-of-range` or, when
 * dropped, `resource-exhausted`. A watch with no replay starts live at once,
 * with the next event delivered.
 */
export function watchTrail(trail: ExitTrail, hub: ExitEventHub, options: TrailWatchOptions): AsyncIterableIterator<SequencedExitEvent> {
  const live = {
    ...(options.orderNo === undefined ? {} : { orderNo: options.orderNo }),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  if (options.afterSequence === undefined && options.fromMs === undefined) return hub.watch(live);
  return replayThenLive(trail, hub, live, options);
}

async function* replayThenLive(
  trail: ExitTrail,
  hub: ExitEventHub,
  live: WatchOptions,
  options: TrailWatchOptions,
): AsyncGenerator<SequencedExitEvent> {
  if (options.afterSequence !== undefined) await refuseFuture(trail, options.afterSequence);
  const replay = { cursor: options.afterSequence ?? (await sequenceBeforeTime(trail, options.fromMs ?? 0)) };
  yield* replayUntilCaughtUp(trail, replay, options);
  const watch = hub.watch(live);
  try {
    yield* replayUntilCaughtUp(trail, replay, options);
    for await (const event of watch) if (event.sequence > replay.cursor) yield event;
  } finally {
    await watch.return?.();
  }
}

async function* replayUntilCaughtUp(
  trail: ExitTrail,
  replay: { cursor: bigint },
  options: TrailWatchOptions,
): AsyncGenerator<SequencedExitEvent> {
  for (;;) {
    if (options.signal?.aborted) return;
    await refuseTrimmed(trail, replay.cursor);
    const page = await trail.read({ after: replay.cursor }, REPLAY_PAGE);
    for (const event of page) {
      replay.cursor = event.sequence;
      if (options.orderNo === undefined || event.tracker.orderNo === options.orderNo) yield event;
    }
    if (page.length < REPLAY_PAGE) return;
  }
}

/** Throws `out-of-range` when retention has dropped an event after `after`. */
export async function refuseTrimmed(trail: ExitTrail, after: bigint): Promise<void> {
  const trimmed = await trail.trimmedThrough();
  if (trimmed > after) throw await outOfRange(trail, `events after sequence ${after}`);
}

/**
 * Throws `out-of-range` for a sequence past the newest event: it was not
 * issued by this trail (another Redis, or one that lost its data), and a
 * watch from it would skip the events up to it without a word.
 */
async function refuseFuture(trail: ExitTrail, after: bigint): Promise<void> {
  const newest = (await trail.sequenceBefore(Number.MAX_SAFE_INTEGER)) ?? 0n;
  if (after > newest) {
    throw new TradingCoreError("out-of-range", `from_sequence ${after} is past the newest event of the trail (sequence ${newest})`);
  }
}

/** The last sequence before `ms`; `out-of-range` when retention may have dropped events appended since. */
export async function sequenceBeforeTime(trail: ExitTrail, ms: number): Promise<bigint> {
  const before = await trail.sequenceBefore(ms);
  if (before === undefined) throw await outOfRange(trail, `every event appended since ${new Date(ms).toISOString()}`);
  return before;
}

async function outOfRange(trail: ExitTrail, what: string): Promise<TradingCoreError> {
  const trimmed = await trail.trimmedThrough();
  const [oldest] = await trail.read({ after: trimmed }, 1);
  return new TradingCoreError(
    "out-of-range",
    `the trail no longer keeps ${what} (retention dropped sequences 1 to ${trimmed}); ` +
      (oldest
        ? `the oldest kept is sequence ${oldest.sequence}, appended ${new Date(oldest.appendedMs).toISOString()}`
        : "it keeps none yet"),
  );
}
