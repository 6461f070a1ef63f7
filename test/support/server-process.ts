/**
 * tradingcore as a separate OS process (`src/main.ts`, as `npm start` runs it),
 * for tests of start-up, signals and crashes. Stopped by pid, never by name.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly address: string;
  readonly port: number;
  /** Every stdout line so far (JSON log lines). */
  readonly lines: string[];
  readonly stderr: string[];
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startServerProcess(args: string[] = [], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<ServerProcess> {
  const engine = process.env.TRADINGCORE_TEST_ENGINE ?? "both";
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "--port", "0", "--connect-port", "0", "--engine", engine, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // A test that times out before this returns cannot stop the child: the worker's exit does.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  const lines: string[] = [];
  const stderr: string[] = [];
  let buffered = "";
  const listening = new Promise<{ address: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within ${timeoutMs} ms; stderr: ${stderr.join("")}`)), timeoutMs);
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        lines.push(line);
        try {
          const entry = JSON.parse(line) as { address?: string; msg?: string };
          // With --engine both, grpc-js logs first; its address is the one gRPC clients use.
          if (/^tradingcore \((grpc-js|connect)\) listening/.test(entry.msg ?? "") && entry.address) {
            clearTimeout(timer);
            resolve({ address: entry.address, port: Number(entry.address.slice(entry.address.lastIndexOf(":") + 1)) });
          }
        } catch {
          // not a JSON line
        }
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk.toString("utf8")));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening; stderr: ${stderr.join("")}`));
    });
  });
  const { address, port } = await listening.catch((error: unknown) => {
    child.kill("SIGKILL");
    throw error;
  });
  return {
    child,
    address,
    port,
    lines,
    stderr,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, "exit");
      process.kill(child.pid!, signal);
      const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const [code] = (await exited) as [number | null];
      clearTimeout(killer);
      return code;
    },
  };
}
