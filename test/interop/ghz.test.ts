import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Segment, Side } from "../../gen/tradingcore/v1/common_pb.js";
import { ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import { TickService } from "../../gen/tradingcore/v1/tick_pb.js";
import { createGrpcJsClient } from "../../src/client/grpc-js-client.js";
import { startInteropServer, type InteropServer } from "./support/interop-server.js";
import { BIN, provision, run, toolchainAbsent } from "./support/toolchain.js";

const GHZ = join(BIN, "ghz");
const CALLS = 400;

interface GhzReport {
  count: number;
  errorDistribution?: Record<string, number> | null;
  statusCodeDistribution?: Record<string, number>;
}

describe.skipIf(toolchainAbsent("go"))("A short ghz load of ExecuteExit over reflection (bounded, loopback)", () => {
  let server: InteropServer;
  beforeAll(async () => {
    await provision("go");
    server = await startInteropServer();
  }, 900_000);
  afterAll(() => server?.core.stop());

  it.each(["grpc-js", "connect"] as const)(
    "exits every tracker exactly once with zero errors on the %s engine",
    { timeout: 300_000 },
    async (engine) => {
      const { address } = server.engines.find((each) => each.engine === engine)!;
      const prefix = `ghz-${engine}`;
      const exits = createGrpcJsClient(ExitService, address);
      const ticks = createGrpcJsClient(TickService, address);
      try {
        for (let n = 0; n < CALLS; n++) {
          await exits.registerTracker({
            orderNo: `${prefix}-${n}`,
            segment: Segment.NSE_FNO,
            securityId: "52175",
            side: Side.LONG,
            quantity: "75",
            entryPrice: "101.55",
            paper: true,
          });
        }
        // An LTP, so the paper market fills every order at once.
        await ticks.publishTicks([{ ticks: [{ instrument: { segment: Segment.NSE_FNO, securityId: "52175" }, ltp: "101.6" }] }]);
      } finally {
        exits.close();
        ticks.close();
      }
      const answer = await run(
        GHZ,
        [
          "--insecure",
          "--call",
          "tradingcore.v1.ExitService/ExecuteExit",
          "-d",
          JSON.stringify({ order_no: `${prefix}-{{.RequestNumber}}`, reason: "load test", reason_code: "EXIT_REASON_CODE_MANUAL" }),
          "-n",
          String(CALLS),
          "-c",
          "8",
          "-t",
          "20s",
          "-O",
          "json",
          address,
        ],
        { timeoutMs: 240_000 },
      );
      expect(answer.code, answer.stderr).toBe(0);
      const report = JSON.parse(answer.stdout) as GhzReport;
      expect(report.count).toBe(CALLS);
      expect(report.errorDistribution ?? {}).toEqual({});
      expect(report.statusCodeDistribution).toEqual({ OK: CALLS });
      const orders = Array.from({ length: CALLS }, (_, n) => server.paper.ordersFor(`${prefix}-${n}`));
      expect(orders.every((count) => count === 1)).toBe(true);
    },
  );
});
