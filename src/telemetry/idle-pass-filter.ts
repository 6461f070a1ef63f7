/**
 * Keeps idle reconciler passes out of the export. The reconciler opens a
 * `reconciler.pass` root span every few seconds before it knows whether there
 * is anything to do; a trace backend filling with empty passes buries the
 * ones that matter. A pass is exported when it had work: a child span (an
 * intent resolved, an exit retried) or a non-zero count among its
 * `reconciler.*` attributes (examined, exited, failures).
 *
 * A span processor rather than a change to the reconciler: the pass's span
 * is cheap to make, and whether it had work is only known when it ends.
 */
import type { Context } from "@opentelemetry/api";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace";
import { BATCH_SPANS } from "../exit/exit-tracing.js";

export class IdlePassFilter implements SpanProcessor {
  /** Open pass spans by span id: true once a child started under one. */
  private readonly openPasses = new Map<string, boolean>();

  constructor(private readonly next: readonly SpanProcessor[]) {}

  onStart(span: Span, parentContext: Context): void {
    if (span.name === BATCH_SPANS.reconcilerPass) this.openPasses.set(span.spanContext().spanId, false);
    else {
      const parentId = span.parentSpanContext?.spanId;
      if (parentId !== undefined && this.openPasses.has(parentId)) this.openPasses.set(parentId, true);
    }
    for (const processor of this.next) processor.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    if (span.name === BATCH_SPANS.reconcilerPass) {
      const id = span.spanContext().spanId;
      const hadChildren = this.openPasses.get(id) === true;
      this.openPasses.delete(id);
      if (!hadChildren && !countedWork(span)) return;
    }
    for (const processor of this.next) processor.onEnd(span);
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.next.map((processor) => processor.forceFlush()));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.next.map((processor) => processor.shutdown()));
  }
}

function countedWork(span: ReadableSpan): boolean {
  return Object.entries(span.attributes).some(([key, value]) => key.startsWith("reconciler.") && typeof value === "number" && value > 0);
}
