/**
 * One span per exit step (DESIGN section 6). Uses only the OpenTelemetry API,
 * which is a no-op until telemetry/ installs an SDK, so the engine costs
 * almost nothing when tracing is off.
 */
import { type Attributes, type Span, SpanStatusCode, trace } from "@opentelemetry/api";

const tracer = trace.getTracer("tradingcore.exit");

/** Span names of the exit flow, in the order the flow runs them. */
export const EXIT_SPANS = {
  validate: "exit.validate",
  lockAcquire: "exit.lock.acquire",
  trackerLoad: "exit.tracker.load",
  ltpLookup: "exit.ltp.lookup",
  intentPersist: "exit.intent.persist",
  routerCall: "exit.router.call",
  routerLookup: "exit.router.lookup",
  trackerUpdate: "exit.tracker.update",
  lockRelease: "exit.lock.release",
} as const;

/** Spans around exits that no client call starts: one per ExitAll item, and the reconciler's work. */
export const BATCH_SPANS = {
  exitAllItem: "exit.all.item",
  reconcilerPass: "reconciler.pass",
  reconcilerResolve: "reconciler.resolve",
  reconcilerRetry: "reconciler.retry",
} as const;

/** Runs `work` inside a child span named `name`; records a thrown error on it and rethrows. */
export async function inSpan<T>(name: string, work: (span: Span) => Promise<T> | T, attributes?: Attributes): Promise<T> {
  return tracer.startActiveSpan(name, attributes ? { attributes } : {}, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Sets attributes on the span the caller runs in (the server's ExecuteExit span). */
export function annotateActiveSpan(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}
