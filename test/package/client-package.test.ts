/**
 * The package as a strategy installs it: `npm pack` (which builds), installed
 * from the tarball into a scratch project with no network, imported by its
 * package name from a .mjs file that talks to a running server on each
 * engine, and type-checked from a .ts file against the built declarations.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/test-server.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TOKEN = "package-token-3b8e";

function run(command: string, args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(" ")} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

interface LockEntry {
  readonly dev?: boolean;
  readonly [field: string]: unknown;
}

/**
 * A lockfile for a project that depends on the tarball alone: the tarball's
 * entry, and the repository's own lock entries of everything but its dev
 * dependencies (the same tree, hoisted the same way). With it `npm ci
 * --offline` installs from the tarball and npm's cache, as a strategy's CI
 * would from its lockfile, and no registry is asked.
 */
async function scratchLock(tarball: string, bytes: Buffer): Promise<unknown> {
  const lock = JSON.parse(await readFile(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
  const own = lock.packages[""]!;
  const packages: Record<string, unknown> = {
    "": { name: "strategy", dependencies: { tradingcore: `file:${tarball}` } },
    "node_modules/tradingcore": {
      version: own.version,
      resolved: `file:${tarball}`,
      integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
      dependencies: own.dependencies,
      optionalDependencies: own.optionalDependencies,
      engines: own.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) if (path !== "" && !entry.dev) packages[path] = entry;
  return { name: "strategy", lockfileVersion: 3, requires: true, packages };
}

const STRATEGY = `
import { createTradingCoreClient } from "tradingcore/connect";
import { ExitStatus, Segment, Side } from "tradingcore";

const [baseUrl, token, orderNo] = process.argv.slice(2);
const client = createTradingCoreClient({ baseUrl, token, timeoutMs: 10_000 });
const instrument = { segment: Segment.NSE_FNO, securityId: "52175" };
await client.exits.registerTracker({ orderNo, ...instrument, symbol: "NIFTY24DEC24000CE", side: Side.LONG, quantity: "75", entryPrice: "101.55", paper: true });
await client.ticks.publishTicks((async function* () { yield { ticks: [{ instrument, ltp: "104.35" }] }; })());
const { ltp } = await client.ticks.getLtp({ instrument });
const first = await client.exits.executeExit({ orderNo, reason: "target hit" });
const again = await client.exits.executeExit({ orderNo, reason: "target hit" });
console.log(JSON.stringify({ ltp: ltp.price, status: ExitStatus[first.result.status], exitPrice: first.result.exitPrice, again: ExitStatus[again.result.status] }));
client.close();
`;

const TYPED = `
import { createTradingCoreClient, type TradingCoreClient } from "tradingcore/connect";
import { createGrpcJsClient } from "tradingcore/grpc-js";
import { ExitService, ExitStatus, type ExecuteExitResponse } from "tradingcore";

const client: TradingCoreClient = createTradingCoreClient({ baseUrl: "http://127.0.0.1:50051" });
const answer: Promise<ExecuteExitResponse> = client.exits.executeExit({ orderNo: "A", reason: "r" });
const status: ExitStatus = ExitStatus.EXITED;
const grpcJs = createGrpcJsClient(ExitService, "127.0.0.1:50051");
// @ts-expect-error: the order number is a string
client.exits.executeExit({ orderNo: 7 });
void answer, status, grpcJs;
`;

describe("The tradingcore package installed from its tarball into a scratch project", () => {
  let scratch: string;
  let servers: TestServer[];
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "tc-package-"));
    await run("npm", ["pack", "--silent", "--pack-destination", scratch], ROOT);
    const tarball = (await readdir(scratch)).find((name) => name.endsWith(".tgz"))!;
    await writeFile(
      join(scratch, "package.json"),
      JSON.stringify({ name: "strategy", private: true, type: "module", dependencies: { tradingcore: `file:${tarball}` } }),
    );
    await writeFile(
      join(scratch, "package-lock.json"),
      JSON.stringify(await scratchLock(tarball, await readFile(join(scratch, tarball))), null, 2),
    );
    await run("npm", ["ci", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], scratch);
    servers = [
      await startTestServer({ engine: "grpc-js", config: { authToken: TOKEN } }),
      await startTestServer({ engine: "connect", config: { authToken: TOKEN } }),
    ];
  }, 300_000);
  afterAll(async () => {
    for (const server of servers ?? []) await server.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it.each(["grpc-js", "connect"])(
    "lets a .mjs strategy import it by name and exit a position exactly once on the %s engine",
    async (engine) => {
      const server = servers.find((each) => each.engine === engine)!;
      await writeFile(join(scratch, "strategy.mjs"), STRATEGY);
      const orderNo = `PKG-${server.engine}`;
      const out = await run(process.execPath, ["strategy.mjs", `http://${server.address}`, TOKEN, orderNo], scratch);
      expect(JSON.parse(out)).toEqual({ ltp: "104.35", status: "EXITED", exitPrice: "104.35", again: "ALREADY_EXITED" });
      expect(server.paper.ordersFor(orderNo)).toBe(1);
    },
    60_000,
  );

  it("type-checks a .ts strategy against the built declarations, and refuses a wrongly typed call", async () => {
    await writeFile(join(scratch, "typed.ts"), TYPED);
    await writeFile(
      join(scratch, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ["typed.ts"],
      }),
    );
    await expect(run(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "."], scratch)).resolves.toBeDefined();
  }, 120_000);
});
