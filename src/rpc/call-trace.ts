/**
 * The call's trace, handed from the tracing middleware to the handlers in the
 * call's context values: handlers parent the exit's spans on it explicitly
 * (see exit/exit-tracing.ts for why not an active context).
 */
import { createContextKey, type ContextValues } from "@connectrpc/connect";
import { NO_TRACE_PARENT, type TraceParent } from "../exit/exit-tracing.js";

export const CALL_TRACE = createContextKey<TraceParent>(NO_TRACE_PARENT, { description: "context of the call's server span" });

/** The trace the call's work belongs to; no parent when tracing is off. */
export function callTraceOf(values: ContextValues): TraceParent {
  return values.get(CALL_TRACE);
}
