/**
 * tradingcore as a process with the Dhan router reading its token from a
 * file, against the Dhan simulator: once the account stops taking the token
 * (renewed elsewhere), exits answer ROUTER_UNAVAILABLE; SIGHUP re-reads the
 * file, without a restart, and the renewed token exits; neither token ever
 * reaches the log.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ExitStatus, Segment, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import { createGrpcJsClient } from "../../src/client/grpc-js-client.js";
import { instantDhanSimulator } from "../support/dhan-sim.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";

describe("the Dhan token file of a running tradingcore", () => {
  const dir = mkdtempSync(join(tmpdir(), "tradingcore-token-"));
  const file = join(dir, "dhan-token");
  const dhan = instantDhanSimulator({ accessToken: "first-secret-token" });
  let server: ServerProcess | undefined;
  beforeAll(() => dhan.start());
  afterAll(async () => {
    await server?.stop("SIGTERM");
    await dhan.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is read again on SIGHUP, the process serving on and exiting with the renewed token, and neither token is logged", async () => {
    writeFileSync(file, "first-secret-token\n");
    server = await startServerProcess(["--engine", "grpc-js"], {
      TRADINGCORE_ROUTER: "dhan",
      TRADINGCORE_DHAN_BASE_URL: dhan.baseUrl,
      TRADINGCORE_DHAN_CLIENT_ID: dhan.account.clientId,
      TRADINGCORE_DHAN_ACCESS_TOKEN_FILE: file,
      TRADINGCORE_LOG_LEVEL: "info",
    });
    const messages = () => server!.lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages()).toContain("Dhan access token loaded");
    const client = createGrpcJsClient(ExitService, server.address);
    try {
      const exit = async (n: number) => {
        const orderNo = `TOKEN-${process.pid}-${n}`;
        await client.registerTracker({
          orderNo,
          segment: Segment.NSE_EQ,
          securityId: "1333",
          symbol: "HDFCBANK",
          side: Side.LONG,
          quantity: "1",
          entryPrice: "1600",
        });
        return (await client.executeExit({ orderNo, reason: "stop" })).result!;
      };
      expect((await exit(1)).status).toBe(ExitStatus.EXITED);

      dhan.account.renewToken("second-secret-token"); // renewed on Dhan's side: the first stops working
      const refused = await exit(2);
      expect(refused.status).toBe(ExitStatus.ROUTER_UNAVAILABLE);
      expect(refused.message).toContain("DH-901");
      expect(refused.tracker?.status ?? TrackerStatus.ACTIVE).toBe(TrackerStatus.ACTIVE);

      writeFileSync(file, "second-secret-token\n");
      server.child.kill("SIGHUP");
      await vi.waitFor(() => expect(messages().some((message) => /^Dhan access token reloaded.*\(SIGHUP\)$/.test(message))).toBe(true), {
        timeout: 15_000,
        interval: 50,
      });
      expect(server.child.exitCode).toBeNull();
      expect((await exit(3)).status).toBe(ExitStatus.EXITED);
      expect(dhan.requests.at(-1)?.token).toBe("second-secret-token");
      expect(dhan.placedOrders).toBe(2);
    } finally {
      client.close();
    }
    const log = server.lines.join("\n");
    expect(log).not.toContain("first-secret-token");
    expect(log).not.toContain("second-secret-token");
  }, 60_000);
});
