/**
 * The one place where TradingCoreError codes become gRPC/Connect status codes.
 * Connect's Code values are the gRPC status numbers, so every engine uses this.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { TradingCoreError, type TradingCoreErrorCode } from "../domain/trading-core-error.js";

const CODES: Record<TradingCoreErrorCode, Code> = {
  "invalid-argument": Code.InvalidArgument,
  "not-found": Code.NotFound,
  conflict: Code.InvalidArgument,
  unavailable: Code.Unavailable,
  timeout: Code.DeadlineExceeded,
  "deadline-passed": Code.DeadlineExceeded,
  fenced: Code.Aborted,
  "version-mismatch": Code.Aborted,
  "illegal-transition": Code.FailedPrecondition,
  "out-of-range": Code.OutOfRange,
  "failed-precondition": Code.FailedPrecondition,
  "resource-exhausted": Code.ResourceExhausted,
  unauthenticated: Code.Unauthenticated,
  unimplemented: Code.Unimplemented,
  internal: Code.Internal,
};

/** Converts anything a handler threw into a ConnectError; internal details stay in the log, not the reply. */
export function toConnectError(reason: unknown): ConnectError {
  if (reason instanceof ConnectError) return reason;
  if (reason instanceof TradingCoreError) {
    const code = CODES[reason.code];
    return new ConnectError(code === Code.Internal ? "internal error" : reason.message, code, undefined, undefined, reason);
  }
  return new ConnectError("internal error", Code.Internal, undefined, undefined, reason);
}
