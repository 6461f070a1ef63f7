/**
 * The README's Python example, run as a reader would: its shell block
 * generates the stubs into a directory of the strategy's own, its Python
 * block exits the worked example's position. Only the address is changed
 * (the server here listens on a free port, not 50051).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import { Segment, Side } from "../../gen/tradingcore/v1/common_pb.js";
import { TickService } from "../../gen/tradingcore/v1/tick_pb.js";
import { createGrpcJsClient } from "../../src/client/grpc-js-client.js";
import { startInteropServer, type InteropServer } from "./support/interop-server.js";
import { PYTHON, ROOT, provision, run, toolchainAbsent } from "./support/toolchain.js";

/** The first fenced block of `language` after `heading` in the README. */
function readmeBlock(heading: string, language: string): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const from = readme.indexOf(heading);
  expect(from).toBeGreaterThanOrEqual(0);
  const match = new RegExp("```" + language + "\\n([\\s\\S]*?)```").exec(readme.slice(from));
  expect(match).not.toBeNull();
  return match![1]!;
}

describe.skipIf(toolchainAbsent("python"))("the README's Python strategy example", () => {
  let server: InteropServer;
  let dir: string;
  beforeAll(async () => {
    await provision("python");
    dir = mkdtempSync(join(tmpdir(), "tradingcore-readme-py-"));
    server = await startInteropServer({ authToken: "readme-token" });
  }, 900_000);
  afterAll(async () => {
    await server?.core.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("generates its stubs outside the repository and exits ENTRY-1 with the token from the environment", { timeout: 120_000 }, async () => {
    const exits = createGrpcJsClient(ExitService, server.core.address);
    await exits.registerTracker(
      {
        orderNo: "ENTRY-1",
        segment: Segment.NSE_FNO,
        securityId: "52175",
        symbol: "NIFTY24DEC24000CE",
        side: Side.LONG,
        quantity: "75",
        entryPrice: "101.55",
        paper: true,
      },
      { metadata: { authorization: "Bearer readme-token" } },
    );
    exits.close();
    // A price, as the worked example publishes: a paper exit fills at the last traded price.
    const ticks = createGrpcJsClient(TickService, server.core.address);
    await ticks.publishTicks([{ ticks: [{ instrument: { segment: Segment.NSE_FNO, securityId: "52175" }, ltp: "104.35" }] }], {
      metadata: { authorization: "Bearer readme-token" },
    });
    ticks.close();
    // The venv's python first on PATH: `python` in the block is the one with grpcio-tools.
    const env = { ...process.env, TC: ROOT, PATH: `${dirname(PYTHON)}:${process.env.PATH}`, TRADINGCORE_AUTH_TOKEN: "readme-token" };
    const shell = await run("bash", ["-euc", readmeBlock("Python (grpcio;", "sh")], { cwd: dir, env });
    expect(shell.code, shell.stderr).toBe(0);
    const script = join(dir, "strategy.py");
    writeFileSync(script, readmeBlock("Python (grpcio;", "python").replace("127.0.0.1:50051", server.core.address));
    const answer = await run("python", [script], { cwd: dir, env });
    expect(answer.code, answer.stderr).toBe(0);
    expect(answer.stdout.trim()).toBe("EXIT_STATUS_EXITED done");
    expect(server.paper.ordersFor("ENTRY-1")).toBe(1);
  });
});
