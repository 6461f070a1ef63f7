/**
 * ExitAll: exit every ACTIVE tracker matching a filter (the session-end
 * square-off), a bounded number at a time, yielding one result per tracker
 * as it finishes.
 *
 * Guarantees:
 * - At most `maxParallel` exits run at once; each tracker is exited at most
 *   once per call (trackers are read page by page in order_no order).
 * - When `signal` aborts, or the consumer stops iterating, no new exit
 *   starts, and every exit already started runs to its result: the
 *   generator finishes only after all of them settled. After an abort the
 *   finished ones are still yielded.
 * - Every started exit is yielded (unless the consumer stopped reading). A
 *   store failure (listing, or an exit that failed before its intent, so
 *   sent nothing) stops new exits and is thrown once the started ones are
 *   yielded; running ExitAll again picks up what is still ACTIVE.
 */
import { ExitReasonCode, type Segment, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { TrackerRecord } from "../domain/tracker.js";
import { TradingCoreError } from "../domain/trading-core-error.js";
import { MAX_REASON_LENGTH } from "./exit-command.js";
import type { ExitEngine } from "./exit-engine.js";
import type { ExitOutcome } from "./exit-outcome.js";
import { BATCH_SPANS, NO_TRACE_PARENT, type TraceParent, inParentSpan } from "./exit-tracing.js";
import type { TrackerStore } from "./ports.js";

export interface ExitAllRequest {
  /** Every segment when absent. */
  readonly segment?: Segment;
  /** Paper and live alike when absent. */
  readonly paper?: boolean;
  readonly reason: string;
  readonly reasonCode: ExitReasonCode;
  readonly maxParallel: number;
}

export interface ExitAllResult {
  readonly orderNo: string;
  readonly outcome: ExitOutcome;
}

export const DEFAULT_EXIT_ALL_PARALLEL = 8;
export const MAX_EXIT_ALL_PARALLEL = 64;
const PAGE_SIZE = 200;

/** The problem with an ExitAll request, or undefined when it may run. */
export function exitAllProblem(request: ExitAllRequest): string | undefined {
  if (request.reason.trim().length === 0) return "reason is required and must not be blank";
  if (request.reason.length > MAX_REASON_LENGTH) return `reason is longer than ${MAX_REASON_LENGTH} characters`;
  if (!(request.reasonCode in ExitReasonCode)) return `reason_code ${request.reasonCode} is not a known ExitReasonCode`;
  if (!Number.isInteger(request.maxParallel) || request.maxParallel < 1 || request.maxParallel > MAX_EXIT_ALL_PARALLEL) {
    return `max_parallel must be between 1 and ${MAX_EXIT_ALL_PARALLEL}`;
  }
  return undefined;
}

export interface ExitAllDeps {
  readonly engine: Pick<ExitEngine, "execute">;
  readonly store: Pick<TrackerStore, "list">;
}

/** Item spans are children of `parent` (the ExitAll call's server span). */
export async function* exitAll(
  deps: ExitAllDeps,
  request: ExitAllRequest,
  signal?: AbortSignal,
  parent: TraceParent = NO_TRACE_PARENT,
): AsyncGenerator<ExitAllResult> {
  const problem = exitAllProblem(request);
  if (problem) throw new TradingCoreError("invalid-argument", problem);
  const candidates = activeTrackers(deps.store, request);
  const running = new Map<string, Promise<Settled>>();
  let listed = false;
  let failure: unknown;
  const exhausted = () => listed || failure !== undefined;
  try {
    for (;;) {
      while (!signal?.aborted && !exhausted() && running.size < request.maxParallel) {
        const next = await candidates.next().catch((error: unknown) => ((failure = error), undefined));
        if (!next || next.done) {
          listed = true;
          break;
        }
        const orderNo = next.value.orderNo;
        running.set(orderNo, exitOne(deps.engine, orderNo, request, parent));
      }
      if (running.size === 0) break;
      const finished = await Promise.race(running.values());
      running.delete(finished.orderNo);
      if ("error" in finished) failure ??= finished.error;
      else yield finished;
    }
  } finally {
    // The consumer may have stopped reading: the exits it started still run to their result.
    await Promise.allSettled(running.values());
    await candidates.return(undefined).catch(() => undefined);
  }
  if (failure !== undefined) throw TradingCoreError.from(failure, "unavailable");
}

type Settled = ExitAllResult | { readonly orderNo: string; readonly error: unknown };

/** Never rejects: a thrown exit (a store outage before its intent, nothing sent) comes back as `error`. */
async function exitOne(engine: ExitAllDeps["engine"], orderNo: string, request: ExitAllRequest, parent: TraceParent): Promise<Settled> {
  try {
    // Its own span per item, so each exit's order_no, status and steps stay apart under the ExitAll call.
    const outcome = await inParentSpan(
      parent,
      BATCH_SPANS.exitAllItem,
      (_span, item) => engine.execute({ orderNo, reason: request.reason, reasonCode: request.reasonCode }, item),
      { order_no: orderNo },
    );
    return { orderNo, outcome };
  } catch (error) {
    return { orderNo, error };
  }
}

/** ACTIVE trackers matching the request, page by page in order_no order. */
async function* activeTrackers(store: ExitAllDeps["store"], request: ExitAllRequest): AsyncGenerator<TrackerRecord> {
  let after: string | undefined;
  do {
    const page = await store.list(
      {
        status: TrackerStatus.ACTIVE,
        ...(request.segment === undefined ? {} : { segment: request.segment }),
        ...(request.paper === undefined ? {} : { paper: request.paper }),
      },
      { ...(after === undefined ? {} : { after }), limit: PAGE_SIZE },
    );
    yield* page.trackers;
    after = page.nextCursor;
  } while (after !== undefined);
}
