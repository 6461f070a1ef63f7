/**
 * Trace context in log lines: a pino `mixin` that adds `trace_id`, `span_id`
 * and `trace_flags` (the field names of OpenTelemetry's log data model, as
 * its pino instrumentation writes them) to every line written while a span
 * is the active context, so that a log line and the span it was written in
 * can be joined. The tracing middleware makes the call's server span the
 * active context while the handler runs; with no SDK, the active context is
 * always empty and the mixin adds nothing.
 */
import { context, isSpanContextValid, trace } from "@opentelemetry/api";

export function traceIdsMixin(): Record<string, string> {
  const span = trace.getSpanContext(context.active());
  // A fresh object each time: pino merges the line's own fields into what the mixin returns.
  if (!span || !isSpanContextValid(span)) return {};
  return { trace_id: span.traceId, span_id: span.spanId, trace_flags: `0${span.traceFlags.toString(16)}`.slice(-2) };
}
