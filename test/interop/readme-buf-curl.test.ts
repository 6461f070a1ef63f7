/**
 * The README's `buf curl` commands, one a port, run as written but for the
 * ports (the server here listens on free ones, not 50051 and 50052).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Segment } from "../../gen/tradingcore/v1/common_pb.js";
import { TickService } from "../../gen/tradingcore/v1/tick_pb.js";
import { createGrpcJsClient } from "../../src/client/grpc-js-client.js";
import { startInteropServer, type InteropServer } from "./support/interop-server.js";
import { ROOT, run } from "./support/toolchain.js";

function readmeBufCurlCommands(): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = /```sh\n(buf curl [\s\S]*?)```/.exec(readme);
  expect(block).not.toBeNull();
  return block![1]!
    .replaceAll("\\\n", " ")
    .split("\n")
    .filter((line) => line.startsWith("buf curl"));
}

describe("the README's buf curl commands", () => {
  let server: InteropServer;
  beforeAll(async () => {
    server = await startInteropServer();
    const ticks = createGrpcJsClient(TickService, server.core.address);
    await ticks.publishTicks([{ ticks: [{ instrument: { segment: Segment.NSE_FNO, securityId: "52175" }, ltp: "104.35" }] }]);
    ticks.close();
  }, 120_000);
  afterAll(() => server?.core.stop());

  it("are one for the grpc-js port and one for the connect port, and each answers the LTP", { timeout: 120_000 }, async () => {
    const commands = readmeBufCurlCommands();
    expect(commands).toHaveLength(2);
    const ports = { "50051": server.core.address.split(":").pop()!, "50052": server.core.connectAddress!.split(":").pop()! };
    for (const command of commands) {
      const local = command.replace(/127\.0\.0\.1:(50051|50052)/, (_, port: "50051" | "50052") => `127.0.0.1:${ports[port]}`);
      const answer = await run("bash", ["-euc", local], { env: { PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH}` } });
      expect(answer.code, `${command}\n${answer.stderr}`).toBe(0);
      expect(JSON.parse(answer.stdout)).toMatchObject({ ltp: { instrument: { securityId: "52175" }, found: true, price: "104.35" } });
    }
  });
});
