/**
 * tradingcore (`src/main.ts`, built or from source, see entry-point.ts) in a child process on
 * free loopback ports: for the load test, and for tests of start-up, signals
 * and crashes. Ready once it logs its first "listening" line; stopped by its
 * pid (SIGTERM by default, a graceful stop that flushes its spans), SIGKILL
 * after a bound; killed with the parent if the parent exits first.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { entryPoint } from "./entry-point.js";

const SERVER = entryPoint(import.meta.url, "../main.ts");
const STOP_TIMEOUT_MS = 15_000;

export interface TradingCoreProcessOptions {
  readonly engine?: "grpc-js" | "connect" | "both";
  /** More flags; they come last, so they win over the defaults. */
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly startTimeoutMs?: number;
  /**
   * The address the caller made the server listen on (with `--port`), for a log level that
   * drops the "listening" line: returned at once, without waiting; readiness is the caller's.
   */
  readonly knownAddress?: string;
}

export interface TradingCoreProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** `host:port` of the first engine that listens (grpc-js with --engine both). */
  readonly address: string;
  readonly port: number;
  /** Every stdout line so far (JSON log lines). */
  readonly lines: string[];
  readonly stderr: string[];
  /** Sends `signal` (SIGTERM by default) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startTradingCoreProcess(options: TradingCoreProcessOptions = {}): Promise<TradingCoreProcess> {
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const defaults = ["--host", "127.0.0.1", "--port", "0", "--connect-port", "0", "--engine", options.engine ?? "both"];
  const child = spawn(process.execPath, [...SERVER.nodeArgs, ...defaults, ...(options.args ?? [])], {
    cwd: SERVER.root,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // A caller that gives up (a timed-out test) before this returns cannot stop the child: our exit does.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  const lines: string[] = [];
  const stderr: string[] = [];
  let buffered = "";
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within ${timeoutMs} ms; stderr: ${stderr.join("")}`)), timeoutMs);
    if (options.knownAddress !== undefined) clearTimeout(timer);
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        lines.push(line);
        const address = listeningAddress(line);
        if (address) {
          clearTimeout(timer);
          resolve(address);
        }
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk.toString("utf8")));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`tradingcore exited with ${code} before listening; stderr: ${stderr.join("")}`));
    });
  });
  if (options.knownAddress !== undefined) listening.catch(() => undefined);
  const address =
    options.knownAddress ??
    (await listening.catch((error: unknown) => {
      child.kill("SIGKILL");
      throw error;
    }));
  return {
    child,
    pid: child.pid!,
    address,
    port: Number(address.slice(address.lastIndexOf(":") + 1)),
    lines,
    stderr,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, "exit");
      process.kill(child.pid!, signal);
      const killer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      const [code] = (await exited) as [number | null];
      clearTimeout(killer);
      return code;
    },
  };
}

/** The address of a "tradingcore (<engine>) listening on …" log line, else undefined. */
export function listeningAddress(line: string): string | undefined {
  try {
    const entry = JSON.parse(line) as { address?: unknown; msg?: unknown };
    return /^tradingcore \((grpc-js|connect)\) listening/.test(String(entry.msg)) && typeof entry.address === "string"
      ? entry.address
      : undefined;
  } catch {
    return undefined;
  }
}
