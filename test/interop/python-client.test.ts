import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startInteropServer, type InteropServer } from "./support/interop-server.js";
import { PYTHON, ROOT, provision, run, toolchainAbsent } from "./support/toolchain.js";

const CLIENT = join(ROOT, "test/interop/python/strategy_client.py");

describe.skipIf(toolchainAbsent("python"))("A Python strategy engine (grpcio, stubs generated from proto/ at test time)", () => {
  let server: InteropServer;
  let gen: string;
  beforeAll(async () => {
    await provision("python");
    gen = mkdtempSync(join(tmpdir(), "tradingcore-py-"));
    const protos = readdirSync(join(ROOT, "proto/tradingcore/v1")).map((file) => `proto/tradingcore/v1/${file}`);
    const generated = await run(PYTHON, [
      "-m",
      "grpc_tools.protoc",
      "-I",
      "proto",
      `--python_out=${gen}`,
      `--grpc_python_out=${gen}`,
      ...protos,
    ]);
    if (generated.code !== 0) throw new Error(`grpc_tools.protoc failed: ${generated.stderr}`);
    server = await startInteropServer({ authToken: "py-token" });
  }, 900_000);
  afterAll(async () => {
    await server?.core.stop();
    if (gen) rmSync(gen, { recursive: true, force: true });
  });

  it.each(["grpc-js", "connect"] as const)(
    "registers, ticks, exits once, reads the tracker and squares off with ExitAll on the %s engine",
    { timeout: 120_000 },
    async (engine) => {
      const { address } = server.engines.find((each) => each.engine === engine)!;
      const answer = await run(PYTHON, [CLIENT, "--gen", gen, "--address", address, "--prefix", `py-${engine}`, "--token", "py-token"]);
      expect(answer.code, answer.stderr).toBe(0);
      expect(JSON.parse(answer.stdout)).toEqual({
        created: true,
        ticksAccepted: 1,
        ltp: "251.85",
        firstExit: "EXIT_STATUS_EXITED",
        firstExitPrice: "251.85",
        firstSuccess: true,
        secondExit: "EXIT_STATUS_ALREADY_EXITED",
        trackerStatus: "TRACKER_STATUS_EXITED",
        missingTracker: "NOT_FOUND",
        paddedQuantity: "INVALID_ARGUMENT",
        paddedQuantityDetailsShort: true,
        exitAll: "OK",
        exitAllStatuses: ["EXIT_STATUS_EXITED", "EXIT_STATUS_EXITED"],
        unauthenticated: "UNAUTHENTICATED",
      });
      expect(server.paper.ordersFor(`py-${engine}-1`)).toBe(1);
    },
  );
});
