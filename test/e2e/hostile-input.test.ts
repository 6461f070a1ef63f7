import { create } from "@bufbuild/protobuf";
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitStatus, Segment } from "../../gen/tradingcore/v1/common_pb.js";
import {
  ExecuteExitRequestSchema,
  ExitService,
  GetTrackerRequestSchema,
  RegisterTrackerRequestSchema,
} from "../../gen/tradingcore/v1/exit_pb.js";
import { PublishTicksRequestSchema, StreamLtpRequestSchema, TickService } from "../../gen/tradingcore/v1/tick_pb.js";
import { registerTracker, validRegisterRequest } from "../support/fixtures.js";
import { INVALID_UTF8, RawGrpcClient, withBytesReplaced } from "../support/raw-grpc.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

/** The grpc-message as the server meant it (the connect engine percent-encodes more than grpc-js decodes). */
const detailsOf = (error: ServiceError) => decodeURIComponent(error.details);
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail("the call succeeded"),
    (error: ServiceError) => ({ code: error.code, details: detailsOf(error) }),
  );

describe("hostile input", () => {
  let server: TestServer;
  let raw: RawGrpcClient;
  const validTracker = validRegisterRequest;
  beforeAll(async () => {
    server = await startTestServer();
    raw = new RawGrpcClient(server.address);
  });
  afterAll(async () => {
    raw.close();
    await server.close();
  });

  describe("to ApplyOrderUpdate, a correlation id of a megabyte", () => {
    it("is refused naming the field, in a short message, and kept nowhere", async () => {
      const parked = server.core.services.orderUpdates.parkedCount;
      const answer = await refusal(
        server.exits.applyOrderUpdate({ correlationId: "c".repeat(1_000_000), status: 4, tradedQuantity: "1", averagePrice: "1" }),
      );
      expect(answer).toEqual({ code: GrpcStatus.INVALID_ARGUMENT, details: "correlation_id is longer than 64 characters (1000000)" });
      expect(server.core.services.orderUpdates.parkedCount).toBe(parked);
    });

    it("as does an order id of one", async () => {
      const answer = await refusal(server.exits.applyOrderUpdate({ correlationId: "x1-1", orderId: "o".repeat(1_000_000), status: 4 }));
      expect(answer).toEqual({ code: GrpcStatus.INVALID_ARGUMENT, details: "order_id is longer than 64 characters (1000000)" });
    });
  });

  describe("to RegisterTracker, a quantity of padding around a number", () => {
    it("answers a short message, not the padding", async () => {
      const answer = await refusal(server.exits.registerTracker({ ...validTracker(), quantity: `${" ".repeat(10_000)}-1` }));
      expect(answer).toEqual({ code: GrpcStatus.INVALID_ARGUMENT, details: "quantity is longer than 32 characters (10002)" });
    });

    it("answers INVALID_ARGUMENT, not INTERNAL, at 200,000 spaces", async () => {
      const answer = await refusal(server.exits.registerTracker({ ...validTracker(), quantity: `${" ".repeat(200_000)}-1` }));
      expect(answer.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(answer.details.length).toBeLessThan(100);
    });

    it("quotes a malformed decimal as a bounded, escaped excerpt", async () => {
      const answer = await refusal(server.exits.registerTracker({ ...validTracker(), entryPrice: '\u2028\u0000"1"' }));
      expect(answer.details).toBe(
        'entry_price "\\u2028\\u0000\\"1\\"" is not a decimal number (-?[0-9]+(.[0-9]+)?, at most 32 characters)',
      );
    });
  });

  describe.each([
    ["a leading space", " 1"],
    ["a trailing space", "1 "],
    ["a no-break space", "\u00a01"],
    ["a byte order mark", "\ufeff1"],
    ["a line separator", "1\u2028"],
    ["a tab", "\t1"],
  ])("a decimal with %s", (_, decimal) => {
    it("is refused as a quantity naming the field, and nothing is stored", async () => {
      const request = { ...validTracker(), quantity: decimal };
      const answer = await refusal(server.exits.registerTracker(request));
      expect(answer.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(answer.details).toMatch(/^quantity ".*" is not a decimal number/);
      await expect(server.exits.getTracker({ orderNo: request.orderNo })).rejects.toMatchObject({ code: GrpcStatus.NOT_FOUND });
    });

    it("is counted rejected as a tick's ltp", async () => {
      const answer = await server.ticks.publishTicks([
        { ticks: [{ instrument: { segment: Segment.NSE_EQ, securityId: "1333" }, ltp: decimal }] },
      ]);
      expect(answer).toMatchObject({
        accepted: 0n,
        rejected: 1n,
        firstError: expect.stringMatching(/^ticks\[0\]: ltp ".*" is not a decimal number/),
      });
    });

    it("is refused as an order update's traded quantity", async () => {
      const answer = await refusal(server.exits.applyOrderUpdate({ correlationId: "x1-1", status: 4, tradedQuantity: decimal }));
      expect(answer).toMatchObject({
        code: GrpcStatus.INVALID_ARGUMENT,
        details: expect.stringMatching(/^traded_quantity ".*" is not a non-negative decimal/),
      });
    });
  });

  describe.each(INVALID_UTF8.map((bytes) => [Buffer.from(bytes).toString("hex"), bytes] as const))(
    "invalid UTF-8 (%s) in a string field",
    (_, bytes) => {
      it("makes ExecuteExit answer INVALID_REQUEST naming the field, and send nothing", async () => {
        const orderNo = await registerTracker(server);
        const request = withBytesReplaced(
          ExecuteExitRequestSchema,
          create(ExecuteExitRequestSchema, { orderNo, reason: "MARKER-REASON" }),
          "MARKER-REASON",
          bytes,
        );
        const [answer] = await raw.call(ExitService.method.executeExit, request);
        const result = answer?.result;
        expect(result).toMatchObject({ status: ExitStatus.INVALID_REQUEST, message: expect.stringMatching(/^reason is not valid UTF-8/) });
        expect(server.paper.ordersFor(orderNo)).toBe(0);
      });

      it.each([
        [
          "RegisterTracker's meta value",
          ExitService.method.registerTracker,
          withBytesReplaced(
            RegisterTrackerRequestSchema,
            create(RegisterTrackerRequestSchema, { ...validTracker(), meta: { desk: "MARKER-META" } }),
            "MARKER-META",
            bytes,
          ),
          /^meta\["desk"\] is not valid UTF-8/,
        ],
        [
          "GetTracker's order_no",
          ExitService.method.getTracker,
          withBytesReplaced(GetTrackerRequestSchema, create(GetTrackerRequestSchema, { orderNo: "MARKER-ORDER" }), "MARKER-ORDER", bytes),
          /^order_no is not valid UTF-8/,
        ],
        [
          "a published tick's security_id",
          TickService.method.publishTicks,
          withBytesReplaced(
            PublishTicksRequestSchema,
            create(PublishTicksRequestSchema, { ticks: [{ instrument: { segment: 1, securityId: "MARKER-SID" }, ltp: "1" }] }),
            "MARKER-SID",
            bytes,
          ),
          /^message 0: ticks\[0\]\.instrument\.security_id is not valid UTF-8/,
        ],
        [
          "StreamLtp's security_id",
          TickService.method.streamLtp,
          withBytesReplaced(
            StreamLtpRequestSchema,
            create(StreamLtpRequestSchema, {
              instruments: [
                { segment: 1, securityId: "1" },
                { segment: 1, securityId: "MARKER-SID" },
              ],
            }),
            "MARKER-SID",
            bytes,
          ),
          /^instruments\[1\]\.security_id is not valid UTF-8/,
        ],
      ])("makes %s answer INVALID_ARGUMENT naming the field", async (_, method, request, message) => {
        const answer = await refusal(raw.call(method, request));
        expect(answer).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, details: expect.stringMatching(message) });
      });
    },
  );

  describe("bytes that are not protobuf at all", () => {
    it("make a stream answer INVALID_ARGUMENT naming the message type", async () => {
      const answer = await refusal(raw.call(TickService.method.streamLtp, new Uint8Array([0x0a, 0x50, 0x01])));
      expect(answer).toMatchObject({
        code: GrpcStatus.INVALID_ARGUMENT,
        details: expect.stringMatching(/^the request is not a valid tradingcore.v1.StreamLtpRequest message/),
      });
    });
  });

  it("keeps serving after all of the above", async () => {
    const orderNo = await registerTracker(server);
    const { result } = await server.exits.executeExit({ orderNo, reason: "still here" });
    expect(result?.status).toBe(ExitStatus.EXITED);
  });
});
