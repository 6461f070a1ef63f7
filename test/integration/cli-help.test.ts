/**
 * `--help`, `-h` and `--version` of the server and the load test, as a user
 * runs them: a process that prints and exits 0, listing every setting the
 * parser accepts (generated from the same tables).
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { envNameOf, SETTINGS } from "../../src/config.js";
import { LOADTEST_FLAGS } from "../../src/loadtest/loadtest-options.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const VERSION = (JSON.parse(readFileSync(`${ROOT}/package.json`, "utf8")) as { version: string }).version;
const SLOW = 60_000;

async function run(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", script, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

describe("the server asked for --help", () => {
  it(
    "prints every setting with its flag, variable and default, and exits 0 without starting",
    async () => {
      const { code, stdout, stderr } = await run("src/main.ts", ["--help"]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      for (const setting of Object.values(SETTINGS)) {
        expect(stdout).toContain(`--${setting.flag} <value>`);
        expect(stdout).toContain(envNameOf(setting.flag));
      }
      expect(stdout).toContain("default 50051");
      expect(stdout).toContain("or REDIS_URL");
      expect(stdout).not.toContain("listening");
    },
    SLOW,
  );

  it(
    "answers -h the same way, even with a bad setting in the environment",
    async () => {
      const { code, stdout } = await run("src/main.ts", ["-h"], { TRADINGCORE_PORT: "not-a-port" });
      expect(code).toBe(0);
      expect(stdout).toContain("--redis-key-prefix <value>");
    },
    SLOW,
  );

  it(
    "prints the package version for --version",
    async () => {
      const { code, stdout } = await run("src/main.ts", ["--version"]);
      expect({ code, stdout }).toEqual({ code: 0, stdout: `tradingcore ${VERSION}\n` });
    },
    SLOW,
  );

  it(
    "still refuses an unknown option with exit 2, naming it",
    async () => {
      const { code, stderr } = await run("src/main.ts", ["--no-such-setting", "1"]);
      expect(code).toBe(2);
      expect(stderr).toContain("--no-such-setting");
    },
    SLOW,
  );
});

describe("the load test asked for --help", () => {
  it(
    "prints every flag the parser accepts and exits 0 without running",
    async () => {
      const { code, stdout, stderr } = await run("src/loadtest/loadtest.ts", ["--help"]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      for (const [flag, spec] of Object.entries(LOADTEST_FLAGS))
        expect(stdout).toContain(spec.type === "string" ? `--${flag} <value>` : `--${flag} `);
      expect(stdout).toContain("--otlp-port");
      expect(stdout).not.toContain("driving");
    },
    SLOW,
  );

  it(
    "prints the package version for --version and -h prints the help",
    async () => {
      expect((await run("src/loadtest/loadtest.ts", ["--version"])).stdout).toBe(`tradingcore ${VERSION}\n`);
      const short = await run("src/loadtest/loadtest.ts", ["-h"]);
      expect(short.code).toBe(0);
      expect(short.stdout).toContain("--no-receiver");
    },
    SLOW,
  );
});
