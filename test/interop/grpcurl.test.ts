import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startInteropServer, type InteropServer } from "./support/interop-server.js";
import { BIN, provision, run, toolchainAbsent } from "./support/toolchain.js";

const GRPCURL = join(BIN, "grpcurl");
const SERVICES = [
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
  "tradingcore.v1.ExitService",
  "tradingcore.v1.TickService",
];
const INSTRUMENT = { segment: "SEGMENT_NSE_EQ", security_id: "2885" };

describe.skipIf(toolchainAbsent("go"))("grpcurl with server reflection only, no proto files", () => {
  let server: InteropServer;
  beforeAll(async () => {
    await provision("go");
    server = await startInteropServer();
  }, 900_000);
  afterAll(() => server?.core.stop());

  const grpcurl = (address: string, ...args: string[]) =>
    run(GRPCURL, ["-plaintext", "-max-time", "30", ...args.slice(0, -1), address, ...args.slice(-1)]);
  const invoke = async (address: string, method: string, request: unknown) => {
    const answer = await run(GRPCURL, [
      "-plaintext",
      "-max-time",
      "30",
      "-d",
      typeof request === "string" ? request : JSON.stringify(request),
      address,
      method,
    ]);
    if (answer.code !== 0) throw new Error(`${method} failed (${answer.code}): ${answer.stderr}${answer.stdout}`);
    return answer.stdout;
  };

  describe.each(["grpc-js", "connect"] as const)("on the %s engine", (engine) => {
    const address = () => server.engines.find((each) => each.engine === engine)!.address;

    it("lists every service", async () => {
      const answer = await grpcurl(address(), "list");
      expect(answer.code).toBe(0);
      expect(answer.stdout.trim().split("\n")).toEqual(SERVICES);
    });

    it("lists every method of ExitService and TickService", async () => {
      expect((await grpcurl(address(), "list")).code).toBe(0);
      const exits = await run(GRPCURL, ["-plaintext", address(), "list", "tradingcore.v1.ExitService"]);
      expect(exits.stdout.trim().split("\n").sort()).toEqual(
        ["ApplyOrderUpdate", "ExecuteExit", "ExitAll", "GetTracker", "ListTrackers", "RegisterTracker", "UpdateExitPlan", "WatchExits"].map(
          (m) => `tradingcore.v1.ExitService.${m}`,
        ),
      );
      const ticks = await run(GRPCURL, ["-plaintext", address(), "list", "tradingcore.v1.TickService"]);
      expect(ticks.stdout.trim().split("\n").sort()).toEqual(
        ["GetLtp", "GetLtps", "PublishTicks", "StreamLtp"].map((m) => `tradingcore.v1.TickService.${m}`),
      );
    });

    it("describes every service, and messages down to the well-known types they import", async () => {
      for (const service of SERVICES) {
        const answer = await run(GRPCURL, ["-plaintext", address(), "describe", service]);
        expect(answer.code, answer.stderr).toBe(0);
        expect(answer.stdout).toContain(`${service} is a service`);
      }
      const tracker = await run(GRPCURL, ["-plaintext", address(), "describe", "tradingcore.v1.Tracker"]);
      expect(tracker.stdout).toContain(".google.protobuf.Timestamp exited_at = 16;");
      const timestamp = await run(GRPCURL, ["-plaintext", address(), "describe", "google.protobuf.Timestamp"]);
      expect(timestamp.stdout).toContain("int64 seconds = 1;");
    });

    it("describes a method and a message with the comments of the proto file", async () => {
      const method = await run(GRPCURL, ["-plaintext", address(), "describe", "tradingcore.v1.ExitService.ExecuteExit"]);
      expect(method.code, method.stderr).toBe(0);
      expect(method.stdout).toContain("// Exits one position with a market order, at most once.");
      const service = await run(GRPCURL, ["-plaintext", address(), "describe", "tradingcore.v1.ExitService"]);
      expect(service.stdout).toContain("// Exits one position with a market order, at most once.");
    });

    it("invokes every RPC by JSON", { timeout: 180_000 }, async () => {
      const orderNo = `grpcurl-${engine}-${Date.now()}`;
      const registered = JSON.parse(
        await invoke(address(), "tradingcore.v1.ExitService/RegisterTracker", {
          order_no: orderNo,
          ...INSTRUMENT,
          symbol: "HDFCBANK",
          side: "SIDE_LONG",
          quantity: "5",
          entry_price: "1642.35",
          paper: true,
        }),
      );
      expect(registered).toMatchObject({ created: true, tracker: { orderNo, status: "TRACKER_STATUS_ACTIVE" } });
      const second = `${orderNo}-b`;
      await invoke(address(), "tradingcore.v1.ExitService/RegisterTracker", {
        order_no: second,
        ...INSTRUMENT,
        side: "SIDE_SHORT",
        quantity: "1",
        entry_price: "1650",
      });

      // A client stream: grpcurl sends each JSON object in -d as one message.
      const tick = (ltp: string) => JSON.stringify({ ticks: [{ instrument: INSTRUMENT, ltp }] });
      expect(
        JSON.parse(await invoke(address(), "tradingcore.v1.TickService/PublishTicks", `${tick("1650.10")} ${tick("1651.20")}`)),
      ).toMatchObject({ accepted: "2" });
      expect(JSON.parse(await invoke(address(), "tradingcore.v1.TickService/GetLtp", { instrument: INSTRUMENT }))).toMatchObject({
        ltp: { found: true, price: "1651.2" },
      });
      expect(JSON.parse(await invoke(address(), "tradingcore.v1.TickService/GetLtps", { instruments: [INSTRUMENT] })).ltps).toHaveLength(1);

      const exit = JSON.parse(
        await invoke(address(), "tradingcore.v1.ExitService/ExecuteExit", {
          order_no: orderNo,
          reason: "target hit",
          reason_code: "EXIT_REASON_CODE_TAKE_PROFIT",
        }),
      );
      expect(exit.result).toMatchObject({
        status: "EXIT_STATUS_EXITED",
        success: true,
        exitPrice: "1651.2",
        referencePrice: "1651.2",
        priceSource: "PRICE_SOURCE_FILL",
      });
      expect(JSON.parse(await invoke(address(), "tradingcore.v1.ExitService/GetTracker", { order_no: orderNo })).tracker.status).toBe(
        "TRACKER_STATUS_EXITED",
      );
      expect(
        JSON.parse(await invoke(address(), "tradingcore.v1.ExitService/ListTrackers", { status: "TRACKER_STATUS_EXITED" })).trackers.map(
          (t: { orderNo: string }) => t.orderNo,
        ),
      ).toContain(orderNo);
      const update = JSON.parse(
        await invoke(address(), "tradingcore.v1.ExitService/ApplyOrderUpdate", {
          correlation_id: exit.result.correlationId,
          order_id: exit.result.exitOrderId,
          status: "BROKER_ORDER_STATUS_TRADED",
          traded_quantity: "5",
          average_price: "1651.2",
        }),
      );
      expect(update.tracker.status).toBe("TRACKER_STATUS_EXITED");

      const exitAll = await invoke(address(), "tradingcore.v1.ExitService/ExitAll", {
        segment: "SEGMENT_NSE_EQ",
        reason: "session end",
        reason_code: "EXIT_REASON_CODE_SESSION_END",
      });
      expect(exitAll).toContain("EXIT_STATUS_EXITED");
      expect(exitAll).toContain(second);
      expect(JSON.parse(await invoke(address(), "grpc.health.v1.Health/Check", { service: "tradingcore.v1.TickService" }))).toEqual({
        status: "SERVING",
      });

      // Subscriptions never end by themselves: read the first message, then let -max-time end the call.
      for (const [method, request] of [
        ["tradingcore.v1.TickService/StreamLtp", { instruments: [INSTRUMENT] }],
        ["grpc.health.v1.Health/Watch", { service: "" }],
      ] as const) {
        const answer = await run(GRPCURL, ["-plaintext", "-max-time", "3", "-d", JSON.stringify(request), address(), method]);
        expect(answer.stdout, `${method}: ${answer.stderr}`).toMatch(/"(ltp|status)"/);
        // The deadline ends it: grpcurl's own timer (DEADLINE_EXCEEDED, exit 64+4) or the server's, which may close it cleanly.
        expect([0, 64 + 4], answer.stderr).toContain(answer.code);
      }
    });

    it("answers a refused call with its status code", async () => {
      const answer = await run(GRPCURL, [
        "-plaintext",
        "-d",
        JSON.stringify({ order_no: "never-registered" }),
        address(),
        "tradingcore.v1.ExitService/GetTracker",
      ]);
      expect(answer.stderr).toMatch(/Code: NotFound/);
      expect(answer.code).toBe(64 + 5);
    });
  });

  it("sends the bearer token as a header and gets UNAUTHENTICATED without it, while reflection stays open", async () => {
    const secured = await startInteropServer({ authToken: "interop-token" });
    try {
      for (const { address } of secured.engines) {
        expect((await grpcurl(address, "list")).code).toBe(0);
        const refused = await run(GRPCURL, [
          "-plaintext",
          "-d",
          '{"status":"TRACKER_STATUS_ACTIVE"}',
          address,
          "tradingcore.v1.ExitService/ListTrackers",
        ]);
        expect(refused.stderr).toMatch(/Code: Unauthenticated/);
        const accepted = await run(GRPCURL, [
          "-plaintext",
          "-H",
          "authorization: Bearer interop-token",
          "-d",
          "{}",
          address,
          "tradingcore.v1.ExitService/ListTrackers",
        ]);
        expect(accepted.code, accepted.stderr).toBe(0);
      }
    } finally {
      await secured.core.stop();
    }
  });
});
