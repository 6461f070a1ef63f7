/**
 * A tradingcore server in a child process for the load test: loopback, a
 * free port, the given environment (OTLP endpoint), stopped by its pid with
 * SIGTERM (graceful: its spans are flushed), SIGKILL after a bound.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

export interface TradingCoreProcess {
  readonly address: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startTradingCoreProcess(engine: "grpc-js" | "connect", env: NodeJS.ProcessEnv): Promise<TradingCoreProcess> {
  const main = fileURLToPath(new URL("../main.ts", import.meta.url));
  const args = ["--import", "tsx", main, "--host", "127.0.0.1", "--port", "0", "--engine", engine, "--log-level", "info"];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } });
  const address = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => fail(new Error(`tradingcore did not listen within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      signal(child, "SIGKILL");
      reject(error);
    };
    child.once("exit", (code) => fail(new Error(`tradingcore exited with ${code} before listening`)));
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const entry = parseJson(line);
        if (entry && entry.engine === engine && typeof entry.address === "string" && String(entry.msg).includes("listening")) {
          clearTimeout(timer);
          child.removeAllListeners("exit");
          resolve(entry.address);
        }
      }
    });
  });
  child.stdout!.resume();
  return {
    address,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => signal(child, "SIGKILL"), STOP_TIMEOUT_MS);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        signal(child, "SIGTERM");
      }),
  };
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function signal(child: ChildProcess, name: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(child.pid, name);
  } catch {
    // already gone
  }
}
