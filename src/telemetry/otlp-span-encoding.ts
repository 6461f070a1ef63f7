/**
 * OTLP/protobuf encoding of finished spans (opentelemetry-proto
 * `trace/v1/trace.proto`, `collector/trace/v1/trace_service.proto`), field
 * for field and in the same order as @opentelemetry/otlp-transformer's
 * ProtobufTraceSerializer, so a request encoded here is byte-identical to the
 * SDK's (a test holds it to that).
 *
 * Why not the SDK's serializer: it encodes at export time, so every span
 * object lives until its batch is sent (long enough to be promoted and
 * collected as old), and it walks each batch twice (size, then bytes). Here a
 * span is encoded once, as it ends, and then dropped.
 */
import type { Attributes, AttributeValue, HrTime, Link, SpanContext } from "@opentelemetry/api";
import type { InstrumentationScope } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableSpan, TimedEvent } from "@opentelemetry/sdk-trace-base";
import { type ProtobufWriter, WireType } from "../wire/protobuf-writer.js";

const CONTEXT_HAS_IS_REMOTE = 0x100;
const CONTEXT_IS_REMOTE = 0x200;

/** The spans of one instrumentation scope, each already written as a `ScopeSpans.spans` field. */
export interface EncodedScopeSpans {
  readonly scope: InstrumentationScope;
  readonly spans: Uint8Array;
}

/** Appends `span` as one `ScopeSpans.spans` entry (field 2). */
export function writeScopeSpan(writer: ProtobufWriter, span: ReadableSpan): void {
  writer.tag(2, WireType.LengthDelimited);
  const mark = writer.beginMessage();
  const context = span.spanContext();
  writer.tag(1, WireType.LengthDelimited).hexBytes(context.traceId);
  writer.tag(2, WireType.LengthDelimited).hexBytes(context.spanId);
  const traceState = context.traceState?.serialize();
  if (traceState) writer.tag(3, WireType.LengthDelimited).string(traceState);
  if (span.parentSpanContext?.spanId) writer.tag(4, WireType.LengthDelimited).hexBytes(span.parentSpanContext.spanId);
  writer.tag(5, WireType.LengthDelimited).string(span.name);
  // OTLP numbers span kinds from 1 (INTERNAL); the API from 0.
  writer.tag(6, WireType.Varint).varint(span.kind + 1);
  writeTime(writer, 7, span.startTime);
  writeTime(writer, 8, span.endTime);
  writeAttributes(writer, 9, span.attributes);
  writer.tag(10, WireType.Varint).varint(span.droppedAttributesCount);
  for (const event of span.events) writeEvent(writer, event);
  writer.tag(12, WireType.Varint).varint(span.droppedEventsCount);
  for (const link of span.links) writeLink(writer, link);
  writer.tag(14, WireType.Varint).varint(span.droppedLinksCount);
  writer.tag(15, WireType.LengthDelimited);
  const status = writer.beginMessage();
  if (span.status.message) writer.tag(2, WireType.LengthDelimited).string(span.status.message);
  writer.tag(3, WireType.Varint).varint(span.status.code);
  writer.endMessage(status);
  writer.tag(16, WireType.Fixed32).fixed32(flagsOf(context, span.parentSpanContext?.isRemote));
  writer.endMessage(mark);
}

/** An `ExportTraceServiceRequest` of one resource and its scopes' encoded spans. */
export function writeTraceRequest(writer: ProtobufWriter, resource: Resource, scopes: readonly EncodedScopeSpans[]): void {
  writer.tag(1, WireType.LengthDelimited);
  const resourceSpans = writer.beginMessage();
  writer.tag(1, WireType.LengthDelimited);
  const resourceMark = writer.beginMessage();
  writeAttributes(writer, 1, resource.attributes);
  writer.tag(2, WireType.Varint).varint(0);
  writer.endMessage(resourceMark);
  for (const { scope, spans } of scopes) {
    writer.tag(2, WireType.LengthDelimited);
    const scopeSpans = writer.beginMessage();
    writeScope(writer, scope);
    writer.raw(spans);
    if (scope.schemaUrl) writer.tag(3, WireType.LengthDelimited).string(scope.schemaUrl);
    writer.endMessage(scopeSpans);
  }
  if (resource.schemaUrl) writer.tag(3, WireType.LengthDelimited).string(resource.schemaUrl);
  writer.endMessage(resourceSpans);
}

function writeScope(writer: ProtobufWriter, scope: InstrumentationScope & { attributes?: Attributes; droppedAttributesCount?: number }): void {
  writer.tag(1, WireType.LengthDelimited);
  const mark = writer.beginMessage();
  writer.tag(1, WireType.LengthDelimited).string(scope.name);
  if (scope.version) writer.tag(2, WireType.LengthDelimited).string(scope.version);
  if (scope.attributes) writeAttributes(writer, 3, scope.attributes);
  if (scope.droppedAttributesCount) writer.tag(4, WireType.Varint).varint(scope.droppedAttributesCount);
  writer.endMessage(mark);
}

function writeEvent(writer: ProtobufWriter, event: TimedEvent): void {
  writer.tag(11, WireType.LengthDelimited);
  const mark = writer.beginMessage();
  writeTime(writer, 1, event.time);
  writer.tag(2, WireType.LengthDelimited).string(event.name);
  if (event.attributes) writeAttributes(writer, 3, event.attributes);
  writer.tag(4, WireType.Varint).varint(event.droppedAttributesCount ?? 0);
  writer.endMessage(mark);
}

function writeLink(writer: ProtobufWriter, link: Link & { droppedAttributesCount?: number }): void {
  writer.tag(13, WireType.LengthDelimited);
  const mark = writer.beginMessage();
  writer.tag(1, WireType.LengthDelimited).hexBytes(link.context.traceId);
  writer.tag(2, WireType.LengthDelimited).hexBytes(link.context.spanId);
  const traceState = link.context.traceState?.serialize();
  if (traceState) writer.tag(3, WireType.LengthDelimited).string(traceState);
  if (link.attributes) writeAttributes(writer, 4, link.attributes);
  writer.tag(5, WireType.Varint).varint(link.droppedAttributesCount ?? 0);
  writer.tag(6, WireType.Fixed32).fixed32(flagsOf(link.context, link.context.isRemote));
  writer.endMessage(mark);
}

function flagsOf(context: SpanContext, remote: boolean | undefined): number {
  return (context.traceFlags & 0xff) | CONTEXT_HAS_IS_REMOTE | (remote ? CONTEXT_IS_REMOTE : 0);
}

function writeTime(writer: ProtobufWriter, field: number, time: HrTime): void {
  writer.tag(field, WireType.Fixed64).hrTime(time[0], time[1]);
}

/** Each attribute as a `KeyValue` in repeated field `field`. */
function writeAttributes(writer: ProtobufWriter, field: number, attributes: Attributes): void {
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    writer.tag(field, WireType.LengthDelimited);
    const keyValue = writer.beginMessage();
    writer.tag(1, WireType.LengthDelimited).string(key);
    writer.tag(2, WireType.LengthDelimited);
    const value = writer.beginMessage();
    writeAnyValue(writer, attributes[key]);
    writer.endMessage(value);
    writer.endMessage(keyValue);
  }
}

/** The oneof of `AnyValue`; an undefined or null value (possible in an array) writes nothing. */
function writeAnyValue(writer: ProtobufWriter, value: AttributeValue | null | undefined | Uint8Array | Record<string, unknown>): void {
  if (typeof value === "string") writer.tag(1, WireType.LengthDelimited).string(value);
  else if (typeof value === "boolean") writer.tag(2, WireType.Varint).bool(value);
  else if (typeof value === "number") {
    if (Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63) writer.tag(3, WireType.Varint).int64(value);
    else writer.tag(4, WireType.Fixed64).double(value);
  } else if (value instanceof Uint8Array) writer.tag(7, WireType.LengthDelimited).bytes(value);
  else if (Array.isArray(value)) {
    writer.tag(5, WireType.LengthDelimited);
    const array = writer.beginMessage();
    for (const item of value) {
      writer.tag(1, WireType.LengthDelimited);
      const itemMark = writer.beginMessage();
      writeAnyValue(writer, item);
      writer.endMessage(itemMark);
    }
    writer.endMessage(array);
  } else if (typeof value === "object" && value !== null) {
    writer.tag(6, WireType.LengthDelimited);
    const list = writer.beginMessage();
    writeAttributes(writer, 1, value as Attributes);
    writer.endMessage(list);
  }
}
