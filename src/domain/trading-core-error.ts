/**
 * The one error type for surprises. Business outcomes are ExitStatus values and
 * never thrown; this is for what should not happen (a store outage, a broken
 * invariant) and for refusals of the non-exit RPCs. Adapters convert library
 * errors into it at their own edge; server/ maps codes to gRPC codes in one place.
 */
export type TradingCoreErrorCode =
  | "invalid-argument" // the caller sent something malformed; the message names the field
  | "not-found"
  | "conflict" // same key, different content (e.g. RegisterTracker with other fields)
  | "unavailable" // a dependency (Redis, broker) could not be reached
  | "timeout"
  | "deadline-passed" // a router refused to write an order after its send deadline: definitely not placed
  | "fenced" // a writer with an older fencing token was refused
  | "version-mismatch" // compare-and-set lost a race
  | "illegal-transition" // a tracker write that is not an edge of the transition table
  | "out-of-range" // a position past what is kept (an audit trail sequence older than its retention)
  | "failed-precondition" // the request names a state that no longer holds (a stale expected version, a settled tracker, a lapsed session)
  | "resource-exhausted" // a limit (in-flight exits, message size) was reached; retry later
  | "unauthenticated" // the call carried no valid credentials; from a router: the broker refused ours (nothing placed)
  | "unimplemented"
  | "internal";

export class TradingCoreError extends Error {
  override readonly name = "TradingCoreError";
  /** For `resource-exhausted`: when trying again can succeed, ms from now, when the thrower knows. */
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly code: TradingCoreErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }

  /** Wraps anything caught into a TradingCoreError, keeping it as `cause`; passes TradingCoreErrors through. */
  static from(reason: unknown, code: TradingCoreErrorCode = "internal"): TradingCoreError {
    if (reason instanceof TradingCoreError) return reason;
    const message = reason instanceof Error ? reason.message : String(reason);
    return new TradingCoreError(code, message, { cause: reason });
  }
}

export function isTradingCoreError(reason: unknown, code?: TradingCoreErrorCode): reason is TradingCoreError {
  return reason instanceof TradingCoreError && (code === undefined || reason.code === code);
}
