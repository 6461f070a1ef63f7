/**
 * One span per exit step an operator looks at (DESIGN section 6): the lock,
 * the store writes and the router call. The steps that take no time of
 * their own worth a span (the request check, the tracker read beside the
 * lock acquisition, the LTP look-up) leave their facts as attributes on the
 * exit's own span instead: each span is the SDK's dearest unit of work
 * (ids, the processor, the exporter's serialisation). Uses only the OpenTelemetry API,
 * which is a no-op until telemetry/ installs an SDK, so the engine costs
 * almost nothing when tracing is off.
 *
 * Parents are passed explicitly (a `TraceParent`, the context of the span the
 * exit runs under): the engine, ExitAll and the reconciler each know which span
 * their work belongs to, and an explicit parent stays right across the
 * callbacks and timers where an active context could be lost.
 */
import { type Attributes, type Context, ROOT_CONTEXT, type Span, SpanStatusCode, trace } from "@opentelemetry/api";

const TRACER_NAME = "tradingcore.exit";
const tracer = trace.getTracer(TRACER_NAME);

/** The context an exit's spans are children of: the call's server span, an ExitAll item, a reconciler pass. */
export type TraceParent = Context;

/** No parent: the spans start a trace of their own. */
export const NO_TRACE_PARENT: TraceParent = ROOT_CONTEXT;

/** Span names of the exit flow, in the order the flow runs them. */
export const EXIT_SPANS = {
  lockAcquire: "exit.lock.acquire",
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

/** Runs `work` inside a span named `name`, a child of `parent`. Records a thrown error on the span and rethrows. */
export function inSpan<T>(parent: TraceParent, name: string, work: (span: Span) => Promise<T> | T, attributes?: Attributes): Promise<T> {
  return spanned(startSpan(parent, name, attributes), work);
}

/** As `inSpan`, for work with spans of its own: `work` also gets the context to parent them on. */
export function inParentSpan<T>(
  parent: TraceParent,
  name: string,
  work: (span: Span, context: TraceParent) => Promise<T> | T,
  attributes?: Attributes,
): Promise<T> {
  const span = startSpan(parent, name, attributes);
  // A span handed back from the parent is already in `parent`: no new context for it.
  const context = span === trace.getSpan(parent) ? parent : trace.setSpan(parent, span);
  return spanned(span, (started) => work(started, context));
}

function startSpan(parent: TraceParent, name: string, attributes: Attributes | undefined): Span {
  // Under a span that records nothing (a trace the sampler left out), a child would record nothing
  // either: every sampler the SDK ships decides a child as its parent was decided. Hand back the
  // parent's non-recording span instead of asking the SDK for a new one, so that an unsampled exit
  // spends nothing on its step spans.
  const parentSpan = trace.getSpan(parent);
  if (parentSpan !== undefined && !parentSpan.isRecording()) return parentSpan;
  return tracer.startSpan(name, attributes ? { attributes } : undefined, parent);
}

async function spanned<T>(span: Span, work: (span: Span) => Promise<T> | T): Promise<T> {
  try {
    return await work(span);
  } catch (error) {
    if (span.isRecording()) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    }
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Sets attributes on the span `parent` holds (the server's ExecuteExit span), if it records;
 * `attributes` is called only then, so an unsampled call builds none.
 */
export function annotateSpan(parent: TraceParent, attributes: () => Attributes): void {
  const span = trace.getSpan(parent);
  if (span?.isRecording()) span.setAttributes(attributes());
}

/** Sets attributes on `span` if it records; `attributes` is called only then. */
export function annotate(span: Span, attributes: () => Attributes): void {
  if (span.isRecording()) span.setAttributes(attributes());
}
