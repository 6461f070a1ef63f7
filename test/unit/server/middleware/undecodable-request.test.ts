import { create, fromBinary, isMessage, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Segment } from "../../../../gen/tradingcore/v1/common_pb.js";
import { ExitService, RegisterTrackerRequestSchema } from "../../../../gen/tradingcore/v1/exit_pb.js";
import { PublishTicksRequestSchema } from "../../../../gen/tradingcore/v1/tick_pb.js";
import {
  tolerantDeserializer,
  UndecodableRequest,
  utf8TolerantSchema,
  utf8TolerantService,
} from "../../../../src/server/middleware/undecodable-request.js";
import { withBytesReplaced } from "../../../support/raw-grpc.js";

const strict = (bytes: Buffer) => fromBinary(PublishTicksRequestSchema, bytes);
const ticks = create(PublishTicksRequestSchema, {
  ticks: [{ instrument: { segment: Segment.NSE_EQ, securityId: "MARKER-SID" }, ltp: "101.5" }],
});
const invalid = Buffer.from(withBytesReplaced(PublishTicksRequestSchema, ticks, "MARKER-SID", [0xff]));

describe("a request deserializer made tolerant", () => {
  const deserialize = tolerantDeserializer(PublishTicksRequestSchema, strict);

  it("hands on what the wrapped deserializer decodes", () => {
    expect(deserialize(Buffer.from(toBinary(PublishTicksRequestSchema, ticks)))).toEqual(ticks);
  });

  it("decodes invalid UTF-8 in a nested string as U+FFFD instead of throwing, everything else intact", () => {
    expect(() => strict(invalid)).toThrow();
    const decoded = deserialize(invalid) as typeof ticks;
    expect(isMessage(decoded, PublishTicksRequestSchema)).toBe(true);
    expect(decoded.ticks[0]).toMatchObject({ instrument: { segment: Segment.NSE_EQ, securityId: "\uFFFD".repeat(10) }, ltp: "101.5" });
  });

  it("turns bytes that are not the message into an UndecodableRequest naming the type", () => {
    const decoded = deserialize(Buffer.from([0x0a, 0x50, 0x01]));
    expect(decoded).toBeInstanceOf(UndecodableRequest);
    expect((decoded as UndecodableRequest).problem).toMatch(
      /^the request is not a valid tradingcore.v1.PublishTicksRequest message: ".+"$/,
    );
  });
});

describe("the UTF-8 tolerant view of a schema", () => {
  it("decodes a valid request exactly as the schema does", () => {
    const request = create(RegisterTrackerRequestSchema, {
      orderNo: "A1",
      segment: Segment.NSE_FNO,
      securityId: "52175",
      quantity: "75",
      meta: { desk: "b", "€": "💹" },
    });
    const bytes = toBinary(RegisterTrackerRequestSchema, request);
    expect(fromBinary(utf8TolerantSchema(RegisterTrackerRequestSchema), bytes)).toEqual(fromBinary(RegisterTrackerRequestSchema, bytes));
  });

  it("substitutes invalid UTF-8 in a map value", () => {
    const request = create(RegisterTrackerRequestSchema, { meta: { "MARKER-KEY": "MARKER-VAL" } });
    const bytes = withBytesReplaced(RegisterTrackerRequestSchema, request, "MARKER-VAL", [0xc0, 0xaf]);
    expect(fromBinary(utf8TolerantSchema(RegisterTrackerRequestSchema), bytes).meta["MARKER-KEY"]).toMatch(/^\uFFFD+$/);
  });

  it("keeps the service's names and paths, with every method's input tolerant", () => {
    const view = utf8TolerantService(ExitService);
    expect(view.typeName).toBe(ExitService.typeName);
    expect(view.methods.map((method) => `${method.parent.typeName}/${method.name}:${method.input.typeName}`)).toEqual(
      ExitService.methods.map((method) => `${method.parent.typeName}/${method.name}:${method.input.typeName}`),
    );
    expect(view.methods.every((method) => method.input.fields.every((field) => !field.utf8Validation))).toBe(true);
  });
});
