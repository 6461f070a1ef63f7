/**
 * Starts and stops the bench's server processes (bench-server.ts) by pid,
 * each bounded in time, and reads the addresses they print.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { BenchTargets } from "./bench-server.js";

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export interface BenchServerProcess {
  readonly targets: BenchTargets;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startBenchServer(args: readonly string[]): Promise<BenchServerProcess> {
  const script = fileURLToPath(new URL("./bench-server.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const targets = await new Promise<BenchTargets>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => fail(new Error(`bench server printed no addresses within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      kill(child, "SIGKILL");
      reject(error);
    };
    child.once("exit", (code) => fail(new Error(`bench server exited with ${code} before it was ready`)));
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const newline = output.indexOf("\n");
      if (newline < 0) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      try {
        resolve(JSON.parse(output.slice(0, newline)) as BenchTargets);
      } catch (error) {
        fail(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
  return {
    targets,
    pid: child.pid!,
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => kill(child, "SIGKILL"), STOP_TIMEOUT_MS);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin?.end(); // the server stops when its stdin closes
    kill(child, "SIGTERM");
  });
}

function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // already gone
  }
}
