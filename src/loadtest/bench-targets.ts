/**
 * Starts and stops the bench's server processes (bench-server.ts) by pid,
 * each bounded in time, and reads the addresses they print.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { BenchTargets } from "./bench-server.js";
import { entryPoint } from "./entry-point.js";

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export interface BenchServerProcess {
  readonly targets: BenchTargets;
  readonly pid: number;
  /** CPU time (user + system) the server process has used so far, µs. */
  cpuMicros(): Promise<number>;
  /** Resolves once the server has exported every span ended so far (at once when tracing is off). */
  flushSpans(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchServer(args: readonly string[]): Promise<BenchServerProcess> {
  const server = entryPoint(import.meta.url, "./bench-server.ts");
  // BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") goes to the server processes' node, for profiling.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter((arg) => arg !== "");
  const child = spawn(process.execPath, [...nodeArgs, ...server.nodeArgs, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = new LineQueue();
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
      child.stdout!.removeAllListeners("data");
      child.stdout!.on("data", (more: Buffer) => lines.push(more));
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
    async cpuMicros() {
      child.stdin!.write("cpu\n");
      const answer = JSON.parse(await lines.next(START_TIMEOUT_MS)) as { cpuMicros: number };
      return answer.cpuMicros;
    },
    async flushSpans() {
      child.stdin!.write("flush\n");
      await lines.next(START_TIMEOUT_MS);
    },
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

/** Lines of a child's stdout, handed out one at a time. */
class LineQueue {
  private buffered = "";
  private readonly ready: string[] = [];
  private waiter: ((line: string) => void) | undefined;

  push(chunk: Buffer): void {
    this.buffered += chunk.toString();
    let newline: number;
    while ((newline = this.buffered.indexOf("\n")) >= 0) {
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      const waiter = this.waiter;
      this.waiter = undefined;
      if (waiter) waiter(line);
      else this.ready.push(line);
    }
  }

  next(timeoutMs: number): Promise<string> {
    const line = this.ready.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`bench server did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (answer) => {
        clearTimeout(timer);
        resolve(answer);
      };
    });
  }
}
