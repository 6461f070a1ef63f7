/**
 * Alarms on order look-ups that keep failing. A failed look-up leaves an
 * intent unresolved, and the reconciler and the fill wait simply look again:
 * right, but silent. Here every look-up's result is counted per correlation
 * id, and an error is logged (and counted, for the metric) when an order's
 * status is not one the router recognises (at once: it will not fix itself)
 * or when `alarmAfter` look-ups of one order in a row have failed, then each
 * time the run of failures doubles. A successful look-up ends the run.
 */
import type { ExitLog } from "./ports.js";

export type LookupAlarmReason = "unrecognised-status" | "failing";

/** Correlation ids followed at once; the oldest run is forgotten past it. */
const MAX_FOLLOWED = 10_000;

export class LookupAlarms {
  private readonly runs = new Map<string, number>();
  private readonly raised: Record<LookupAlarmReason, number> = { "unrecognised-status": 0, failing: 0 };

  constructor(
    private readonly log: ExitLog,
    private readonly alarmAfter = 3,
  ) {}

  /** Alarms raised since start, by reason. */
  get counts(): Readonly<Record<LookupAlarmReason, number>> {
    return this.raised;
  }

  succeeded(correlationId: string): void {
    this.runs.delete(correlationId);
  }

  failed(correlationId: string, reason: LookupAlarmReason, message: string): void {
    const run = (this.runs.get(correlationId) ?? 0) + 1;
    this.runs.delete(correlationId);
    this.runs.set(correlationId, run);
    if (this.runs.size > MAX_FOLLOWED) this.runs.delete(this.runs.keys().next().value!);
    const first = reason === "unrecognised-status" ? 1 : this.alarmAfter;
    if (run < first || !isPowerOfTwo(run / first)) return;
    this.raised[reason]++;
    this.log.error(
      { correlationId, failedLookups: run, reason },
      reason === "unrecognised-status"
        ? `the broker reports exit order ${correlationId} in a status this router does not recognise (${message}); it is looked up again, never taken as filled or refused`
        : `order look-up for ${correlationId} has failed ${run} times in a row (${message}); the intent stays unresolved and is looked up again`,
    );
  }
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}
