/**
 * Decodes an OTLP ExportTraceServiceRequest (HTTP/protobuf or HTTP/JSON)
 * into flat spans: what the load test needs to say where time went. Only
 * the fields used are read; everything else is skipped by wire type, so
 * newer OTLP versions decode too.
 */
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

export type AttributeValue = string | number | boolean;

export interface ReceivedSpan {
  /** Lower-case hex. */
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  /** Epoch ns as a bigint, exact. */
  readonly startNs: bigint;
  readonly endNs: bigint;
  /** (end − start) in ms, for statistics. */
  readonly durationMs: number;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
  readonly serviceName: string;
}

/** Spans of one binary (application/x-protobuf) export request. */
export function decodeTraceRequest(bytes: Uint8Array): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  forEachField(new BinaryReader(bytes), (field, reader) => {
    if (field !== 1) return false;
    const resourceSpans = new BinaryReader(reader.bytes());
    let serviceName = "";
    const pending: Omit<ReceivedSpan, "serviceName">[] = [];
    forEachField(resourceSpans, (rsField, rs) => {
      if (rsField === 1) {
        forEachField(new BinaryReader(rs.bytes()), (resField, res) => {
          if (resField !== 1) return false;
          const [key, value] = decodeKeyValue(res.bytes());
          if (key === "service.name") serviceName = String(value);
          return true;
        });
        return true;
      }
      if (rsField !== 2) return false;
      forEachField(new BinaryReader(rs.bytes()), (ssField, ss) => {
        if (ssField !== 2) return false;
        pending.push(decodeSpan(ss.bytes()));
        return true;
      });
      return true;
    });
    for (const span of pending) spans.push({ ...span, serviceName });
    return true;
  });
  return spans;
}

function decodeSpan(bytes: Uint8Array): Omit<ReceivedSpan, "serviceName"> {
  let traceId = "";
  let spanId = "";
  let parentSpanId = "";
  let name = "";
  let kind = 0;
  let startNs = 0n;
  let endNs = 0n;
  let statusCode = 0;
  const attributes: Record<string, AttributeValue> = {};
  forEachField(new BinaryReader(bytes), (field, reader) => {
    switch (field) {
      case 1:
        traceId = hex(reader.bytes());
        return true;
      case 2:
        spanId = hex(reader.bytes());
        return true;
      case 4:
        parentSpanId = hex(reader.bytes());
        return true;
      case 5:
        name = reader.string();
        return true;
      case 6:
        kind = reader.int32();
        return true;
      case 7:
        startNs = BigInt(reader.fixed64());
        return true;
      case 8:
        endNs = BigInt(reader.fixed64());
        return true;
      case 9: {
        const [key, value] = decodeKeyValue(reader.bytes());
        if (value !== undefined) attributes[key] = value;
        return true;
      }
      case 15:
        forEachField(new BinaryReader(reader.bytes()), (statusField, status) => {
          if (statusField !== 3) return false;
          statusCode = status.int32();
          return true;
        });
        return true;
      default:
        return false;
    }
  });
  return { traceId, spanId, parentSpanId, name, kind, startNs, endNs, durationMs: Number(endNs - startNs) / 1e6, attributes, statusCode };
}

function decodeKeyValue(bytes: Uint8Array): [string, AttributeValue | undefined] {
  let key = "";
  let value: AttributeValue | undefined;
  forEachField(new BinaryReader(bytes), (field, reader) => {
    if (field === 1) key = reader.string();
    else if (field === 2) value = decodeAnyValue(reader.bytes());
    else return false;
    return true;
  });
  return [key, value];
}

function decodeAnyValue(bytes: Uint8Array): AttributeValue | undefined {
  let value: AttributeValue | undefined;
  forEachField(new BinaryReader(bytes), (field, reader) => {
    switch (field) {
      case 1:
        value = reader.string();
        return true;
      case 2:
        value = reader.bool();
        return true;
      case 3:
        value = Number(reader.int64());
        return true;
      case 4:
        value = reader.double();
        return true;
      default:
        return false; // arrays, maps and bytes are not needed here
    }
  });
  return value;
}

/** Calls `read` per field; when it answers false (not read), the field is skipped. */
function forEachField(reader: BinaryReader, read: (field: number, reader: BinaryReader) => boolean): void {
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    const before = reader.pos;
    if (!read(field, reader)) {
      if (reader.pos !== before) throw new Error(`OTLP decoder read field ${field} and then refused it`);
      reader.skip(wireType as WireType, field);
    }
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
}
interface JsonKeyValue {
  key: string;
  value?: JsonAnyValue;
}
interface JsonSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: JsonKeyValue[];
  status?: { code?: number };
}
interface JsonRequest {
  resourceSpans?: { resource?: { attributes?: JsonKeyValue[] }; scopeSpans?: { spans?: JsonSpan[] }[] }[];
}

/** Spans of one OTLP/JSON (application/json) export request. */
export function decodeTraceRequestJson(text: string): ReceivedSpan[] {
  const request = JSON.parse(text) as JsonRequest;
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const serviceName = String(jsonAttributes(resourceSpans.resource?.attributes)["service.name"] ?? "");
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        const startNs = BigInt(span.startTimeUnixNano ?? 0);
        const endNs = BigInt(span.endTimeUnixNano ?? 0);
        spans.push({
          traceId: (span.traceId ?? "").toLowerCase(),
          spanId: (span.spanId ?? "").toLowerCase(),
          parentSpanId: (span.parentSpanId ?? "").toLowerCase(),
          name: span.name ?? "",
          kind: span.kind ?? 0,
          startNs,
          endNs,
          durationMs: Number(endNs - startNs) / 1e6,
          attributes: jsonAttributes(span.attributes),
          statusCode: span.status?.code ?? 0,
          serviceName,
        });
      }
    }
  }
  return spans;
}

function jsonAttributes(list: JsonKeyValue[] | undefined): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) {
    if (!value) continue;
    if (value.stringValue !== undefined) attributes[key] = value.stringValue;
    else if (value.boolValue !== undefined) attributes[key] = value.boolValue;
    else if (value.intValue !== undefined) attributes[key] = Number(value.intValue);
    else if (value.doubleValue !== undefined) attributes[key] = value.doubleValue;
  }
  return attributes;
}
