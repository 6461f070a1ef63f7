/**
 * Requests whose bytes do not decode, turned into something the handler edge
 * can answer (request-guard.ts: INVALID_ARGUMENT naming the field, or an
 * INVALID_REQUEST result for ExecuteExit) instead of the engines' INTERNAL.
 *
 * protobuf-es refuses a string field holding invalid UTF-8 by throwing from
 * the decoder, without naming the field, and both engines answer a decoder
 * that throws with INTERNAL (connect-node before any interceptor sees the
 * call). So:
 * - grpc-js: `tolerantDeserializer` wraps whatever function decodes the
 *   request. When it throws, the bytes are decoded again with UTF-8 checking
 *   off (`utf8TolerantSchema`): invalid bytes become U+FFFD, which the input
 *   bounds refuse naming the field. Bytes that still do not decode (not
 *   protobuf at all, a truncated message) become an UndecodableRequest.
 * - connect: the engine decodes with `utf8TolerantSchema` from the start,
 *   since connect-node offers no hook around its decoder; the same bounds
 *   refuse the U+FFFD. Bytes that are not protobuf at all are still answered
 *   by connect-node itself (INTERNAL "parse binary" on unary calls).
 */
import { type DescField, type DescMessage, type DescMethod, type DescService, fromBinary } from "@bufbuild/protobuf";
import { excerpt } from "../../domain/text-excerpt.js";

/** What a deserializer hands on instead of a message when the bytes are not one. */
export class UndecodableRequest {
  constructor(
    /** Fully-qualified message type the bytes should have been. */
    readonly typeName: string,
    /** Why decoding failed, for the caller; names the type, quotes the decoder's reason as an excerpt. */
    readonly problem: string,
  ) {}
}

/** Wraps a request deserializer so that it never throws: undecodable bytes give an UndecodableRequest. */
export function tolerantDeserializer(schema: DescMessage, deserialize: (bytes: Buffer) => unknown): (bytes: Buffer) => unknown {
  const tolerant = utf8TolerantSchema(schema);
  return (bytes) => {
    try {
      return deserialize(bytes);
    } catch (strictError) {
      try {
        return fromBinary(tolerant, bytes);
      } catch {
        const reason = strictError instanceof Error ? strictError.message : String(strictError);
        return new UndecodableRequest(schema.typeName, `the request is not a valid ${schema.typeName} message: ${excerpt(reason, 80)}`);
      }
    }
  };
}

const views = new WeakMap<DescMessage, DescMessage>();

/**
 * A view of `schema` (and of every message type inside it) that decodes
 * invalid UTF-8 in string fields as U+FFFD instead of throwing. Everything
 * else (type name, fields, JSON names, presence) is the schema's own, read
 * through the prototype, so messages decoded with it are `schema` messages.
 */
export function utf8TolerantSchema<D extends DescMessage>(schema: D): D {
  const known = views.get(schema);
  if (known) return known as D;
  const fields: DescField[] = [];
  const view: DescMessage = Object.create(schema, {
    fields: { value: fields },
    field: { value: {} },
    members: { value: [] },
  });
  // Registered before its fields are built, so a recursive message type finds it.
  views.set(schema, view);
  const byLocalName = view.field as Record<string, DescField>;
  for (const field of schema.fields) {
    const tolerant: DescField = Object.create(field, {
      utf8Validation: { value: false },
      ...(field.message ? { message: { value: utf8TolerantSchema(field.message) } } : {}),
    });
    fields.push(tolerant);
    byLocalName[field.localName] = tolerant;
  }
  (view.members as unknown as unknown[]).push(
    ...schema.members.map((member) => (member.kind === "field" ? byLocalName[member.localName] : member)),
  );
  return view as D;
}

/** A view of `service` whose methods decode their input with `utf8TolerantSchema`. */
export function utf8TolerantService<S extends DescService>(service: S): S {
  const methods: DescMethod[] = service.methods.map((method) =>
    Object.create(method, { input: { value: utf8TolerantSchema(method.input) } }),
  );
  return Object.create(service, {
    methods: { value: methods },
    method: { value: Object.fromEntries(methods.map((method) => [method.localName, method])) },
  });
}
