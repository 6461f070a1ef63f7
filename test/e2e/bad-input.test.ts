import { status as GrpcStatus } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitStatus, Segment, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { registerTracker, validRegisterRequest } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

describe("bad input", () => {
  let server: TestServer;
  let orderNo: string;
  beforeAll(async () => {
    server = await startTestServer();
    orderNo = await registerTracker(server);
  });
  afterAll(() => server.close());

  describe("to ExecuteExit", () => {
    it.each([
      ["an empty order_no", { orderNo: "", reason: "x" }, /order_no is required/],
      ["a huge order_no", { orderNo: "A".repeat(10_000), reason: "x" }, /order_no is longer than 64/],
      ["an order_no with spaces", { orderNo: "A 1", reason: "x" }, /order_no may only contain/],
      ["a blank reason", { reason: " \t" }, /reason is required/],
      ["a huge reason", { reason: "r".repeat(257) }, /reason is longer than 256/],
      ["an unknown reason_code", { reason: "x", reasonCode: 999 }, /reason_code 999/],
    ])("answers INVALID_REQUEST for %s, names the field, and changes nothing", async (_, request, message) => {
      const before = (await server.exits.getTracker({ orderNo })).tracker;
      const { result } = await server.exits.executeExit({ orderNo, ...request });
      expect(result?.status).toBe(ExitStatus.INVALID_REQUEST);
      expect(result?.success).toBe(false);
      expect(result?.message).toMatch(message);
      expect((await server.exits.getTracker({ orderNo })).tracker).toEqual(before);
      expect(server.paper.ordersFor(orderNo)).toBe(0);
    });
  });

  describe("to RegisterTracker", () => {
    const valid = validRegisterRequest;
    it.each([
      ["a malformed quantity", { quantity: "ten" }, /quantity "ten" is not a decimal number/],
      ["a negative quantity", { quantity: "-5" }, /quantity must be greater than 0/],
      ["a zero entry_price", { entryPrice: "0" }, /entry_price must be greater than 0/],
      ["an exponent price", { entryPrice: "1e3" }, /entry_price "1e3" is not a decimal number/],
      ["a float-overflow price", { entryPrice: "9".repeat(400) }, /entry_price is longer than 32 characters/],
      ["an unknown segment", { segment: 77 }, /segment 77 is not a known value/],
      ["no segment", { segment: Segment.UNSPECIFIED }, /segment is required/],
      ["an unknown side", { side: 9 }, /side 9 is not a known value/],
      ["a blank security_id", { securityId: " " }, /security_id is required/],
      ["an EXITED status", { status: TrackerStatus.EXITED }, /status must be ACTIVE or PENDING/],
    ])("answers INVALID_ARGUMENT for %s and stores nothing", async (_, change, message) => {
      const request = { ...valid(), ...change };
      await expect(server.exits.registerTracker(request)).rejects.toMatchObject({
        code: GrpcStatus.INVALID_ARGUMENT,
        details: expect.stringMatching(message),
      });
      await expect(server.exits.getTracker({ orderNo: request.orderNo })).rejects.toMatchObject({ code: GrpcStatus.NOT_FOUND });
    });

    it("answers INVALID_ARGUMENT for the same order_no with different fields, keeping the first", async () => {
      const first = valid();
      await server.exits.registerTracker(first);
      await expect(server.exits.registerTracker({ ...first, quantity: "11" })).rejects.toMatchObject({
        code: GrpcStatus.INVALID_ARGUMENT,
        details: expect.stringMatching(/already registered/),
      });
      expect((await server.exits.getTracker({ orderNo: first.orderNo })).tracker?.quantity).toBe("10");
    });
  });

  describe("to the other RPCs", () => {
    it("answers INVALID_ARGUMENT for a tick with a malformed ltp and counts it rejected", async () => {
      const answer = await server.ticks.publishTicks([
        {
          ticks: [
            { instrument: { segment: Segment.NSE_EQ, securityId: "1" }, ltp: "abc" },
            { instrument: { segment: Segment.NSE_EQ, securityId: "1" }, ltp: "5.5" },
          ],
        },
      ]);
      expect(answer.accepted).toBe(1n);
      expect(answer.rejected).toBe(1n);
      expect(answer.firstError).toMatch(/ticks\[0\]: ltp "abc"/);
    });

    it("answers INVALID_ARGUMENT for GetLtp without an instrument", async () => {
      await expect(server.ticks.getLtp({})).rejects.toMatchObject({
        code: GrpcStatus.INVALID_ARGUMENT,
        details: expect.stringMatching(/instrument is required/),
      });
    });

    it("answers INVALID_ARGUMENT for a forged page token", async () => {
      await expect(server.exits.listTrackers({ pageToken: "bm9wZQ" })).rejects.toMatchObject({
        code: GrpcStatus.INVALID_ARGUMENT,
        details: expect.stringMatching(/page_token/),
      });
    });

    it("answers INVALID_ARGUMENT for an order update without a correlation id", async () => {
      await expect(server.exits.applyOrderUpdate({ status: 4 })).rejects.toMatchObject({
        code: GrpcStatus.INVALID_ARGUMENT,
        details: expect.stringMatching(/correlation_id is required/),
      });
    });
  });

  it("keeps serving after all of the above", async () => {
    const { result } = await server.exits.executeExit({ orderNo, reason: "still here" });
    expect(result?.status).toBe(ExitStatus.EXITED);
  });
});
