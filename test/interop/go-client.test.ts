import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startInteropServer, type InteropServer } from "./support/interop-server.js";
import { BIN, ROOT, provision, run, toolchainAbsent } from "./support/toolchain.js";

describe.skipIf(toolchainAbsent("go"))("A Go strategy engine (grpc-go, stubs generated with buf at test time)", () => {
  let server: InteropServer;
  let work: string;
  let client: string;
  beforeAll(async () => {
    await provision("go");
    // A copy of the client module with its stubs generated into it; nothing is written under test/.
    work = mkdtempSync(join(tmpdir(), "tradingcore-go-"));
    for (const file of ["go.mod", "go.sum", "main.go"]) cpSync(join(ROOT, "test/interop/go", file), join(work, file));
    const env = { PATH: `${BIN}${delimiter}${process.env.PATH ?? ""}` };
    const generated = await run(
      "npx",
      ["buf", "generate", "--template", "test/interop/go/buf.gen.yaml", "--path", "proto/tradingcore", "--output", work],
      { env },
    );
    if (generated.code !== 0) throw new Error(`buf generate failed: ${generated.stderr}`);
    client = join(work, "strategy-client");
    const built = await run("go", ["build", "-o", client, "."], { cwd: work, timeoutMs: 600_000 });
    if (built.code !== 0) throw new Error(`go build failed: ${built.stderr}`);
    server = await startInteropServer({ authToken: "go-token" });
  }, 900_000);
  afterAll(async () => {
    await server?.core.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it.each(["grpc-js", "connect"] as const)(
    "checks health, registers, ticks, exits once, reads the tracker and squares off with ExitAll on the %s engine",
    { timeout: 120_000 },
    async (engine) => {
      const { address } = server.engines.find((each) => each.engine === engine)!;
      const answer = await run(client, ["-address", address, "-prefix", `go-${engine}`, "-token", "go-token"]);
      expect(answer.code, answer.stderr).toBe(0);
      expect(JSON.parse(answer.stdout)).toEqual({
        health: "SERVING",
        created: true,
        ticksAccepted: 1,
        ltp: "71190.25",
        firstExit: "EXIT_STATUS_EXITED",
        firstExitPrice: "71190.25",
        firstSuccess: true,
        secondExit: "EXIT_STATUS_ALREADY_EXITED",
        trackerStatus: "TRACKER_STATUS_EXITED",
        missingTracker: "NotFound",
        exitAllStatuses: ["EXIT_STATUS_EXITED", "EXIT_STATUS_EXITED"],
        exitAll: "OK",
        unauthenticated: "Unauthenticated",
      });
      expect(server.paper.ordersFor(`go-${engine}-1`)).toBe(1);
    },
  );
});
