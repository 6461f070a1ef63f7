/**
 * Protobuf fields written by hand, so a request can carry what no encoder
 * writes: invalid UTF-8, a field sent twice (the last one wins for a
 * singular field, a message sent twice is merged), fields the contract does
 * not have. A fragment is the bytes of one or more whole fields; a request
 * is a valid message's encoding with fragments appended.
 */
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

export type Fragment = Uint8Array;

export function lengthDelimited(fieldNo: number, bytes: Uint8Array): Fragment {
  return new BinaryWriter().tag(fieldNo, WireType.LengthDelimited).bytes(bytes).finish();
}

/** An int32 or enum field; negative values are written as 10-byte varints, as the encoding says. */
export function int32Field(fieldNo: number, value: number): Fragment {
  return new BinaryWriter().tag(fieldNo, WireType.Varint).int32(value).finish();
}

export function uint32Field(fieldNo: number, value: number): Fragment {
  return new BinaryWriter().tag(fieldNo, WireType.Varint).uint32(value).finish();
}

export function int64Field(fieldNo: number, value: bigint): Fragment {
  return new BinaryWriter().tag(fieldNo, WireType.Varint).int64(value).finish();
}

/** A message field whose message is made of `fields`. */
export function messageField(fieldNo: number, ...fields: Fragment[]): Fragment {
  return lengthDelimited(fieldNo, concat(...fields));
}

/** A map<string, string> entry (key 1, value 2), each given as its bytes. */
export function mapEntry(fieldNo: number, key: Uint8Array, value: Uint8Array): Fragment {
  return messageField(fieldNo, lengthDelimited(1, key), lengthDelimited(2, value));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

/** A field number no message of the contract has, with each wire type's kind of payload: a server must skip it. */
export function unknownField(fieldNo: number, kind: "varint" | "bytes" | "fixed32" | "fixed64", payload: Uint8Array): Fragment {
  const writer = new BinaryWriter();
  if (kind === "varint")
    return writer
      .tag(fieldNo, WireType.Varint)
      .uint64(BigInt(payload.length) * 1_000_003n)
      .finish();
  if (kind === "fixed32") return writer.tag(fieldNo, WireType.Bit32).fixed32(payload.length).finish();
  if (kind === "fixed64") return writer.tag(fieldNo, WireType.Bit64).fixed64(BigInt(payload.length)).finish();
  return writer.tag(fieldNo, WireType.LengthDelimited).bytes(payload).finish();
}
