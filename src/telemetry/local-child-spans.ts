/**
 * Child spans of a sampled span of this process, recorded without the SDK
 * tracer's per-span work: the exit's step spans, eight an exit, where that
 * work (parent validation by hex scan, twice; the sampler; attribute
 * sanitizing; clock reconciliation) cost as much as the spans' encoding.
 *
 * It only takes the spans whose outcome under the SDK is fixed:
 * - the parent is a span recorded in this process (an SDK span or one of
 *   ours), still open and sampled: a parent-based sampler (the default, and
 *   every `OTEL_TRACES_SAMPLER=parentbased_*`) records and samples its child
 *   with the parent's trace id and trace state;
 * - the span limits are the defaults (128 attributes, 128 events), which
 *   these spans never come near but are applied all the same.
 * `localChildSpansFor` turns the path off when the environment changes
 * either. Anything else is left to the SDK's tracer (see exit-tracing.ts).
 *
 * A span made here is a ReadableSpan like the SDK's: the same span
 * processors get it (`onStart` with its parent's context, `onEnding`,
 * `onEnd`), with the parent's resource, timed by the same clock rules (wall
 * clock at the start, monotonic clock for the duration), ids from the same
 * generator.
 */
import {
  type Attributes,
  type AttributeValue,
  type Exception,
  type HrTime,
  type Link,
  type Span,
  type SpanContext,
  SpanKind,
  type SpanStatus,
  SpanStatusCode,
  type TimeInput,
  TraceFlags,
  diag,
  trace,
} from "@opentelemetry/api";
import { addHrTimes, hrTimeDuration, type InstrumentationScope, isAttributeValue, millisToHrTime, otperformance } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import type { IdGenerator, ReadableSpan, Span as SdkSpan, SpanProcessor, TimedEvent } from "@opentelemetry/sdk-trace-base";
import type { ChildSpanStarter, TraceParent } from "../exit/exit-tracing.js";

/** The SDK's default span limits (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, OTEL_SPAN_EVENT_COUNT_LIMIT). */
const ATTRIBUTE_COUNT_LIMIT = 128;
const EVENT_COUNT_LIMIT = 128;

/** Environment variables under which the SDK would treat a child span differently. */
const SDK_SETTINGS_THAT_MATTER = [
  "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
  "OTEL_ATTRIBUTE_COUNT_LIMIT",
  "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
  "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
  "OTEL_SPAN_EVENT_COUNT_LIMIT",
  "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
  "OTEL_NODE_EXPERIMENTAL_SDK_METRICS",
];

/**
 * The starter for these span processors, or undefined when the environment
 * asks the SDK for something this path does not do (a sampler that is not
 * parent-based, span limits of its own, the SDK's own span metrics).
 */
export function localChildSpansFor(processors: readonly SpanProcessor[], ids: IdGenerator, env: NodeJS.ProcessEnv): ChildSpanStarter | undefined {
  const sampler = (env.OTEL_TRACES_SAMPLER ?? "").trim().toLowerCase();
  if (sampler !== "" && !sampler.startsWith("parentbased_")) return undefined;
  if (SDK_SETTINGS_THAT_MATTER.some((name) => (env[name] ?? "").trim() !== "")) return undefined;
  return new LocalChildSpans(processors, ids);
}

class LocalChildSpans implements ChildSpanStarter {
  private readonly scopes = new Map<string, InstrumentationScope>();

  constructor(
    private readonly processors: readonly SpanProcessor[],
    private readonly ids: IdGenerator,
  ) {}

  startChild(tracerName: string, name: string, attributes: Attributes | undefined, parent: TraceParent): Span | undefined {
    const parentSpan = trace.getSpan(parent) as (Span & Partial<ReadableSpan>) | undefined;
    if (!parentSpan?.isRecording() || !parentSpan.resource) return undefined;
    const parentContext = parentSpan.spanContext();
    if (parentContext.isRemote || (parentContext.traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
    const context: SpanContext = {
      traceId: parentContext.traceId,
      spanId: this.ids.generateSpanId(),
      traceFlags: TraceFlags.SAMPLED,
      ...(parentContext.traceState ? { traceState: parentContext.traceState } : {}),
    };
    const span = new LocalChildSpan(name, context, parentContext, parentSpan.resource, this.scopeOf(tracerName), this.processors);
    if (attributes) span.setAttributes(attributes);
    for (const processor of this.processors) processor.onStart(span as unknown as SdkSpan, parent);
    return span;
  }

  private scopeOf(tracerName: string): InstrumentationScope {
    let scope = this.scopes.get(tracerName);
    if (!scope) this.scopes.set(tracerName, (scope = { name: tracerName, version: undefined, schemaUrl: undefined }));
    return scope;
  }
}

class LocalChildSpan implements Span, ReadableSpan {
  readonly kind = SpanKind.INTERNAL;
  readonly attributes: Attributes = {};
  readonly links: Link[] = [];
  readonly events: TimedEvent[] = [];
  readonly startTime: HrTime;
  endTime: HrTime = [0, 0];
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  ended = false;
  droppedAttributesCount = 0;
  droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  private attributeCount = 0;
  /** Monotonic clock at the start: durations are measured on it, as the SDK does. */
  private readonly startedAt: number;

  constructor(
    public name: string,
    private readonly context: SpanContext,
    readonly parentSpanContext: SpanContext,
    readonly resource: Resource,
    readonly instrumentationScope: InstrumentationScope,
    private readonly processors: readonly SpanProcessor[],
  ) {
    // As the SDK: the start is the wall clock's reading, the end the start plus the monotonic clock's count.
    this.startTime = millisToHrTime(Date.now());
    this.startedAt = otperformance.now();
  }

  get duration(): HrTime {
    return this.ended ? hrTimeDuration(this.startTime, this.endTime) : [-1, -1];
  }

  spanContext(): SpanContext {
    return this.context;
  }

  isRecording(): boolean {
    return !this.ended;
  }

  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (value == null || this.ended || key.length === 0) return this;
    if (!isAttributeValue(value)) {
      diag.warn(`Invalid attribute value set for key: ${key}`);
      return this;
    }
    const isNew = !Object.prototype.hasOwnProperty.call(this.attributes, key);
    if (isNew && this.attributeCount >= ATTRIBUTE_COUNT_LIMIT) {
      this.droppedAttributesCount++;
      return this;
    }
    this.attributes[key] = value;
    if (isNew) this.attributeCount++;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) if (Object.prototype.hasOwnProperty.call(attributes, key)) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return this;
    const attributes = isTimeInput(attributesOrTime) ? undefined : attributesOrTime;
    const at = isTimeInput(attributesOrTime) ? attributesOrTime : time;
    if (this.events.length >= EVENT_COUNT_LIMIT) {
      this.events.shift();
      this.droppedEventsCount++;
    }
    this.events.push({ name, attributes: { ...attributes }, time: this.timeOf(at), droppedAttributesCount: 0 });
    return this;
  }

  addLink(link: Link): this {
    if (!this.ended) this.links.push(link);
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  setStatus(status: SpanStatus): this {
    // As the SDK: UNSET changes nothing, OK is final, an ERROR's message is kept only if it is a string.
    if (this.ended || status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this;
    this.status = status.code === SpanStatusCode.ERROR && typeof status.message === "string" ? { code: status.code, message: status.message } : { code: status.code };
    return this;
  }

  updateName(name: string): this {
    if (!this.ended) this.name = name;
    return this;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    // The semantic conventions' exception event, as the SDK records it.
    const attributes: Attributes = {};
    if (typeof exception === "string") attributes["exception.message"] = exception;
    else if (exception) {
      if (exception.code) attributes["exception.type"] = exception.code.toString();
      else if (exception.name) attributes["exception.type"] = exception.name;
      if (exception.message) attributes["exception.message"] = exception.message;
      if (exception.stack) attributes["exception.stacktrace"] = exception.stack;
    }
    if (attributes["exception.type"] || attributes["exception.message"]) this.addEvent("exception", attributes, time);
  }

  end(endTime?: TimeInput): void {
    if (this.ended) {
      diag.error(`${this.name} ${this.context.traceId}-${this.context.spanId} - You can only call end() on a span once.`);
      return;
    }
    this.endTime = this.timeOf(endTime);
    if (this.endTime[0] < this.startTime[0] || (this.endTime[0] === this.startTime[0] && this.endTime[1] < this.startTime[1])) this.endTime = [...this.startTime];
    for (const processor of this.processors) processor.onEnding?.(this as unknown as SdkSpan);
    this.ended = true;
    for (const processor of this.processors) processor.onEnd(this);
  }

  private timeOf(input: TimeInput | undefined): HrTime {
    if (input === undefined) return addHrTimes(this.startTime, millisToHrTime(otperformance.now() - this.startedAt));
    if (Array.isArray(input)) return input as HrTime;
    if (input instanceof Date) return millisToHrTime(input.getTime());
    // A number: a monotonic-clock reading if it is not in the future, else epoch milliseconds (the SDK's rule).
    return input <= otperformance.now() ? addHrTimes(this.startTime, millisToHrTime(input - this.startedAt)) : millisToHrTime(input);
  }
}

function isTimeInput(value: unknown): value is TimeInput {
  return typeof value === "number" || value instanceof Date || (Array.isArray(value) && value.length === 2 && typeof value[0] === "number");
}
