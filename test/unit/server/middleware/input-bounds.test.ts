import { create, type DescMessage } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Health } from "../../../../gen/grpc/health/v1/health_pb.js";
import { GetTrackerRequestSchema, RegisterTrackerRequestSchema } from "../../../../gen/tradingcore/v1/exit_pb.js";
import { ExitService } from "../../../../gen/tradingcore/v1/exit_pb.js";
import { SessionService } from "../../../../gen/tradingcore/v1/session_pb.js";
import { PublishTicksRequestSchema, TickService } from "../../../../gen/tradingcore/v1/tick_pb.js";
import { INPUT_BOUNDS, messageCheck } from "../../../../src/server/middleware/input-bounds.js";

/** Every field of `schema` and of the messages inside it whose size the caller picks: strings, bytes, lists and maps. */
function callerSizedFields(schema: DescMessage, seen = new Set<DescMessage>()): string[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  return schema.fields.flatMap((field) => {
    const own =
      field.fieldKind === "list" ||
      field.fieldKind === "map" ||
      (field.fieldKind === "scalar" && (field.scalar === 9 || field.scalar === 12));
    const inner = field.message ? callerSizedFields(field.message, seen) : [];
    return [...(own ? [`${schema.typeName}.${field.name}`] : []), ...inner];
  });
}

describe("the input bounds", () => {
  const requestTypes = [ExitService, TickService, SessionService, Health].flatMap((service) =>
    service.methods.map((method) => method.input),
  );

  it("bound every string, list and map field of every request of every RPC", () => {
    const fields = [...new Set(requestTypes.flatMap((schema) => callerSizedFields(schema)))];
    expect(fields.length).toBeGreaterThan(15);
    expect(fields.filter((field) => !(field in INPUT_BOUNDS))).toEqual([]);
    for (const schema of requestTypes) expect(() => messageCheck(schema)).not.toThrow();
  });

  it("list no field that does not exist", () => {
    const fields = new Set(requestTypes.flatMap((schema) => callerSizedFields(schema)));
    expect(Object.keys(INPUT_BOUNDS).filter((field) => !fields.has(field))).toEqual([]);
  });

  it("hold a member of a oneof to its bound when it is the case set, naming it by its path", () => {
    const check = messageCheck(RegisterTrackerRequestSchema);
    const request = create(RegisterTrackerRequestSchema, {
      orderNo: "A",
      exitPlan: { stopLoss: { level: { case: "points", value: "1".repeat(33) } } },
    });
    expect(check(request)).toBe("exit_plan.stop_loss.points is longer than 32 characters (33)");
    request.exitPlan!.stopLoss!.level = { case: "percent", value: "1" };
    expect(check(request)).toBeUndefined();
  });

  it("refuse to compile a request type with a string field nobody bounded", () => {
    expect(() => messageCheck(GetTrackerRequestSchema, {})).toThrow(/no input bound for tradingcore.v1.GetTrackerRequest.order_no/);
  });
});

describe("the check of a request", () => {
  const register = messageCheck(RegisterTrackerRequestSchema);
  const ticks = messageCheck(PublishTicksRequestSchema);

  it("passes a request within every bound", () => {
    expect(
      register(create(RegisterTrackerRequestSchema, { orderNo: "A".repeat(64), symbol: "S".repeat(64), meta: { k: "v".repeat(256) } }), ""),
    ).toBeUndefined();
  });

  it("names a string one character over its bound", () => {
    expect(register(create(RegisterTrackerRequestSchema, { symbol: "S".repeat(65) }), "")).toBe("symbol is longer than 64 characters (65)");
  });

  it("names a nested field by its path", () => {
    const request = create(PublishTicksRequestSchema, { ticks: [{ ltp: "1" }, { instrument: { securityId: "9".repeat(33) }, ltp: "1" }] });
    expect(ticks(request, "")).toBe("ticks[1].instrument.security_id is longer than 32 characters (33)");
  });

  it("bounds the entries of a map, its keys and its values", () => {
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, index) => [`k${index}`, "v"]));
    expect(register(create(RegisterTrackerRequestSchema, { meta: many }), "")).toBe("meta has more than 32 entries");
    expect(register(create(RegisterTrackerRequestSchema, { meta: { ["k".repeat(65)]: "v" } }), "")).toMatch(
      /^meta key "k+…" \(65 characters\) is longer than 64 characters/,
    );
    expect(register(create(RegisterTrackerRequestSchema, { meta: { k: "v".repeat(257) } }), "")).toBe(
      'meta["k"] is longer than 256 characters (257)',
    );
  });

  it("bounds the length of a repeated field", () => {
    const request = create(PublishTicksRequestSchema, { ticks: Array.from({ length: 10_001 }, () => ({ ltp: "1" })) });
    expect(ticks(request, "")).toBe("ticks has more than 10000 entries");
  });

  it("refuses U+FFFD, what invalid UTF-8 decodes to, naming the field", () => {
    expect(register(create(RegisterTrackerRequestSchema, { meta: { k: "a\uFFFDb" } }), "")).toMatch(/^meta\["k"\] is not valid UTF-8/);
  });
});
