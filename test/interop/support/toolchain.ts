/**
 * Where the interop tests find their tools, and how they get them: the
 * pinned tools live in a cache directory filled by test/interop/setup.sh
 * (which .ci runs through test/setup.sh). A test that finds its tool missing
 * runs the same script itself. A test skips only when the language
 * toolchain itself (python3, go) is absent from the machine.
 */
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
export const TOOLS_DIR =
  process.env.TRADINGCORE_TOOLS_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "tradingcore-tools");
export const BIN = join(TOOLS_DIR, "bin");
export const PYTHON = join(TOOLS_DIR, "python", "bin", "python");

export type Toolchain = "python" | "go";

const COMMANDS: Record<Toolchain, [string, string[]]> = { python: ["python3", ["--version"]], go: ["go", ["version"]] };
const PROVIDES: Record<Toolchain, string[]> = {
  python: [PYTHON],
  go: [join(BIN, "grpcurl"), join(BIN, "ghz"), join(BIN, "protoc-gen-go"), join(BIN, "protoc-gen-go-grpc")],
};

/** Why the tests of this toolchain cannot run here, or undefined when they can. */
export function toolchainAbsent(toolchain: Toolchain): string | undefined {
  const [command, args] = COMMANDS[toolchain];
  const run = spawnSync(command, args, { stdio: "ignore", timeout: 30_000 });
  return run.status === 0 ? undefined : `${command} is not installed on this machine`;
}

/** Makes sure the pinned tools of a toolchain are in the cache, running setup.sh when one is missing. */
export async function provision(toolchain: Toolchain): Promise<void> {
  if (PROVIDES[toolchain].every((path) => existsSync(path))) return;
  await promisify(execFile)("bash", [join(ROOT, "test/interop/setup.sh"), toolchain], {
    cwd: ROOT,
    timeout: 900_000,
    maxBuffer: 16 * 1024 * 1024,
  });
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (bounded by `timeoutMs`) and answers its exit code and output; never throws for a non-zero exit. */
export async function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      [...args],
      {
        cwd: options.cwd ?? ROOT,
        env: { ...process.env, ...options.env },
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") return reject(Object.assign(error, { stdout, stderr }));
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}
