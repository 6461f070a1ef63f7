import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Segment } from "../../gen/tradingcore/v1/common_pb.js";
import { Money } from "../../src/domain/money.js";
import { startInteropServer, type InteropServer } from "./support/interop-server.js";
import { run } from "./support/toolchain.js";

const curlAbsent =
  spawnSync("curl", ["--version"], { stdio: "ignore", timeout: 10_000 }).status === 0 ? undefined : "curl is not installed on this machine";

describe("The Connect engine's other protocols", () => {
  let server: InteropServer;
  let base: string;
  beforeAll(async () => {
    server = await startInteropServer();
    base = `http://${server.engines.find((each) => each.engine === "connect")!.address}`;
  }, 120_000);
  afterAll(() => server?.core.stop());

  /** One Connect-protocol JSON call with plain curl over cleartext HTTP/2 (prior knowledge). */
  function connectJson(method: string, body: object, curlFlags: string[] = []) {
    return run("curl", [
      "-sS",
      "--http2-prior-knowledge",
      "--max-time",
      "30",
      "-H",
      "content-type: application/json",
      ...curlFlags,
      "-d",
      JSON.stringify(body),
      `${base}/tradingcore.v1.${method}`,
    ]);
  }

  it.skipIf(curlAbsent)(
    "answers a Connect-protocol JSON call from plain curl over HTTP/2 (prior knowledge)",
    { timeout: 60_000 },
    async () => {
      const register = await connectJson("ExitService/RegisterTracker", {
        order_no: "curl-1",
        segment: "SEGMENT_NSE_EQ",
        security_id: "1594",
        side: "SIDE_LONG",
        quantity: "3",
        entry_price: "1830.4",
      });
      expect(register.code, register.stderr).toBe(0);
      expect(JSON.parse(register.stdout)).toMatchObject({ created: true, tracker: { orderNo: "curl-1", status: "TRACKER_STATUS_ACTIVE" } });
      // An LTP for the paper market to fill at (PublishTicks is a client stream, which a unary curl call cannot send).
      server.core.services.ticks.sink.write([
        { segment: Segment.NSE_EQ, securityId: "1594", ltp: new Money("1831.1"), timeMs: Date.now() },
      ]);

      const exit = await connectJson("ExitService/ExecuteExit", { order_no: "curl-1", reason: "manual" });
      expect(JSON.parse(exit.stdout).result).toMatchObject({ status: "EXIT_STATUS_EXITED", success: true });

      const missing = await connectJson("ExitService/GetTracker", { order_no: "curl-none" }, ["-w", "\\n%{http_code}"]);
      const [body, httpStatus] = missing.stdout.trim().split("\n");
      expect(httpStatus).toBe("404");
      expect(JSON.parse(body!)).toMatchObject({ code: "not_found" });
    },
  );

  it.each(["grpc", "grpcweb", "connect"])("answers buf curl over %s, schema from reflection", { timeout: 120_000 }, async (protocol) => {
    const answer = await run("npx", [
      "buf",
      "curl",
      "--http2-prior-knowledge",
      "--protocol",
      protocol,
      "--timeout",
      "30s",
      "-d",
      JSON.stringify({ service: "tradingcore.v1.ExitService" }),
      `${base}/grpc.health.v1.Health/Check`,
    ]);
    expect(answer.code, answer.stderr).toBe(0);
    expect(JSON.parse(answer.stdout)).toEqual({ status: "SERVING" });
  });

  it("lists every method through buf curl's reflection client", { timeout: 120_000 }, async () => {
    const answer = await run("npx", ["buf", "curl", "--http2-prior-knowledge", "--list-methods", base]);
    expect(answer.code, answer.stderr).toBe(0);
    expect(answer.stdout).toContain("tradingcore.v1.ExitService/ExecuteExit");
    expect(answer.stdout).toContain("tradingcore.v1.TickService/StreamLtp");
  });
});
