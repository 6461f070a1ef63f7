import { create, type DescField, type DescFile, type DescMessage, ScalarType, toBinary } from "@bufbuild/protobuf";
import { file_google_protobuf_descriptor } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { file_grpc_health_v1_health } from "../../../gen/grpc/health/v1/health_pb.js";
import { file_grpc_reflection_v1_reflection } from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import { file_tradingcore_v1_common } from "../../../gen/tradingcore/v1/common_pb.js";
import { file_tradingcore_v1_exit } from "../../../gen/tradingcore/v1/exit_pb.js";
import { file_tradingcore_v1_tick } from "../../../gen/tradingcore/v1/tick_pb.js";
import { messageEncoder } from "../../../src/wire/message-encoder.js";

/** Every message of a file, nested ones included. */
function messagesOf(file: DescFile): DescMessage[] {
  const all: DescMessage[] = [];
  const visit = (message: DescMessage) => {
    all.push(message);
    message.nestedMessages.forEach(visit);
  };
  file.messages.forEach(visit);
  return all;
}

const CONTRACT = [file_tradingcore_v1_common, file_tradingcore_v1_exit, file_tradingcore_v1_tick, file_grpc_health_v1_health, file_grpc_reflection_v1_reflection].flatMap(messagesOf);

/** A value of every scalar type, at an awkward spot: negatives, beyond 2^53, non-ASCII, long. */
function sample(type: ScalarType, variant: number, asString: boolean): unknown {
  const long = (value: bigint) => (asString ? value.toString() : value);
  switch (type) {
    case ScalarType.STRING:
      return variant % 2 === 0 ? "naïve ✓ " + "x".repeat(200) : "ORD-1";
    case ScalarType.BOOL:
      return true;
    case ScalarType.DOUBLE:
      return variant % 2 === 0 ? -1.5 : 1e300;
    case ScalarType.FLOAT:
      return 0.25;
    case ScalarType.INT32:
      return variant % 2 === 0 ? -7 : 2_147_483_647;
    case ScalarType.UINT32:
      return 4_000_000_000;
    case ScalarType.SINT32:
      return -3;
    case ScalarType.FIXED32:
      return 123_456;
    case ScalarType.SFIXED32:
      return -5;
    case ScalarType.INT64:
      return long(variant % 2 === 0 ? -9_007_199_254_740_993n : 1_764_000_000_000_000n);
    case ScalarType.UINT64:
      return long(variant % 2 === 0 ? 18_446_744_073_709_551_615n : 1_764_000_000_000_000n);
    case ScalarType.SINT64:
      return long(-123n);
    case ScalarType.FIXED64:
      return long(2n ** 63n + 5n);
    case ScalarType.SFIXED64:
      return long(-2n);
    case ScalarType.BYTES:
      return new Uint8Array([0, 1, 2, 255]);
  }
}

function valueOf(field: DescField, depth: number, variant: number): unknown {
  switch (field.fieldKind) {
    case "scalar":
      return sample(field.scalar, variant, field.longAsString);
    case "enum":
      return field.enum.values[field.enum.values.length - 1]!.number;
    case "message":
      return populated(field.message, depth - 1, variant);
    case "list":
      if (field.listKind === "message") return [populated(field.message, depth - 1, variant), create(field.message)];
      if (field.listKind === "enum") return [field.enum.values[0]!.number, field.enum.values[field.enum.values.length - 1]!.number];
      return [sample(field.scalar, variant, field.longAsString), sample(field.scalar, variant + 1, field.longAsString)];
    case "map": {
      const value = () =>
        field.mapKind === "message" ? populated(field.message, depth - 1, variant) : field.mapKind === "enum" ? field.enum.values[0]!.number : sample(field.scalar, variant, false);
      return { strategy: value(), "1": value(), "": value() };
    }
  }
}

/** A message with every field set (one case of each oneof, picked by `variant`), nested `depth` levels. */
function populated(schema: DescMessage, depth: number, variant: number): unknown {
  const init: Record<string, unknown> = {};
  if (depth < 0) return create(schema);
  for (const oneof of schema.oneofs) {
    const field = oneof.fields[variant % oneof.fields.length]!;
    init[oneof.localName] = { case: field.localName, value: valueOf(field, depth, variant) };
  }
  for (const field of schema.fields) if (!field.oneof) init[field.localName] = valueOf(field, depth, variant);
  return create(schema, init as never);
}

/** Both encoders write the same bytes, or both refuse the message. */
function expectSameBytes(schema: DescMessage, message: unknown): void {
  const attempt = (encode: () => Uint8Array) => {
    try {
      return Buffer.from(encode()).toString("hex");
    } catch {
      return "refused";
    }
  };
  const ours = attempt(() => messageEncoder(schema)(message as never));
  const theirs = attempt(() => toBinary(schema, message as never));
  expect(ours, schema.typeName).toBe(theirs);
}

describe("messageEncoder", () => {
  it("covers the contract: every message type of every served file", () => {
    expect(CONTRACT.length).toBeGreaterThan(30);
  });

  it("writes exactly what toBinary writes for every message of the contract, every field set", () => {
    for (const schema of CONTRACT) for (const variant of [0, 1, 2]) expectSameBytes(schema, populated(schema, 3, variant));
  });

  it("writes exactly what toBinary writes for every message left at its defaults", () => {
    for (const schema of CONTRACT) expectSameBytes(schema, create(schema));
  });

  it("leaves out zero values of fields without presence and keeps set optional fields even at zero", () => {
    const exitAll = file_tradingcore_v1_exit.messages.find((message) => message.name === "ExitAllRequest")!;
    expectSameBytes(exitAll, create(exitAll, { reason: "", paper: false } as never));
    expect(messageEncoder(exitAll)(create(exitAll, { paper: false } as never)).length).toBeGreaterThan(0);
  });

  it("writes unknown fields back, as toBinary does", () => {
    const tracker = file_tradingcore_v1_common.messages.find((message) => message.name === "Tracker")!;
    const message = create(tracker, { orderNo: "ORD-1" } as never) as { $unknown?: unknown };
    message.$unknown = [{ no: 999, wireType: 2, data: new Uint8Array([3, 97, 98, 99]) }];
    expectSameBytes(tracker, message);
  });

  it("handles proto2 messages too (descriptor.proto: explicit presence, required fields, unpacked lists)", () => {
    const proto2 = messagesOf(file_google_protobuf_descriptor);
    for (const schema of proto2) for (const depth of [1, 3]) expectSameBytes(schema, populated(schema, depth, 1));
    const namePart = proto2.find((schema) => schema.name === "NamePart")!;
    expect(() => messageEncoder(namePart)(create(namePart) as never)).toThrow(/required field not set/);
  });
});
