/**
 * Local `redis-server` processes for benchmarks and tests: each on a free
 * loopback port with its own temporary directory, stopped by its pid (never by
 * name). A process still running when this process exits is killed on the way
 * out. `REDIS_SERVER_BIN` overrides the binary (default /usr/bin/redis-server).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? "/usr/bin/redis-server";
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;
const running = new Set<ChildProcess>();

process.on("exit", () => {
  for (const child of running) if (child.pid !== undefined) safeKill(child.pid, "SIGKILL");
});

export interface RedisServerOptions {
  /** Append-only file with fsync on every write: an acknowledged write survives a kill. */
  readonly appendOnly?: boolean;
  /** Starts as a replica of the server on this loopback port. */
  readonly replicaOf?: number;
  /** Runs as a Sentinel monitoring this master instead of as a data node. */
  readonly sentinel?: SentinelOptions;
}

export interface SentinelOptions {
  readonly masterName: string;
  readonly masterPort: number;
  /** Sentinels that must agree the master is down. */
  readonly quorum: number;
  /** Unanswered for this long, the master is down to this Sentinel, ms. */
  readonly downAfterMs: number;
  readonly failoverTimeoutMs: number;
}

/** One redis-server process; `url` is redis://127.0.0.1:PORT. */
export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {}

  /** Starts a server on a free loopback port; retries on another port if the chosen one was taken meanwhile. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = mkdtempSync(join(tmpdir(), "tc-redis-"));
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const server = new RedisServer(await freeLoopbackPort(), dir, options);
      try {
        await server.launch();
        return server;
      } catch (error) {
        lastError = error;
      }
    }
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`redis-server did not start: ${String(lastError)}`);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get isRunning(): boolean {
    return this.child !== undefined;
  }

  /** Stops the process (SIGTERM, then SIGKILL after a bound); keeps its data directory. */
  async stop(): Promise<void> {
    await this.signal("SIGTERM");
  }

  /** Kills the process abruptly, as a crash would: only what was fsynced survives. */
  async kill(): Promise<void> {
    await this.signal("SIGKILL");
  }

  /** Starts the process again on the same port and directory (an AOF is replayed). */
  async restart(): Promise<void> {
    if (this.child) await this.stop();
    await this.launch();
  }

  /** Stops the process and deletes its data directory. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private launch(): Promise<void> {
    const args = this.options.sentinel ? this.sentinelArgs(this.options.sentinel) : this.serverArgs();
    // A Sentinel never says "Ready": it is once it monitors its master.
    const ready = this.options.sentinel ? "+monitor master" : "Ready to accept connections";
    const child = spawn(REDIS_SERVER, args, { stdio: ["ignore", "pipe", "pipe"] });
    return this.untilReady(child, ready);
  }

  /** A Sentinel rewrites its configuration file as it learns the topology: written once, kept across restarts. */
  private sentinelArgs(sentinel: SentinelOptions): string[] {
    const file = join(this.dir, "sentinel.conf");
    if (!existsSync(file)) {
      const name = sentinel.masterName;
      writeFileSync(
        file,
        [
          `sentinel monitor ${name} 127.0.0.1 ${sentinel.masterPort} ${sentinel.quorum}`,
          `sentinel down-after-milliseconds ${name} ${sentinel.downAfterMs}`,
          `sentinel failover-timeout ${name} ${sentinel.failoverTimeoutMs}`,
          `sentinel parallel-syncs ${name} 1`,
          "",
        ].join("\n"),
      );
    }
    return [
      file,
      "--sentinel",
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      this.dir,
      "--daemonize",
      "no",
      "--logfile",
      "",
    ];
  }

  private serverArgs(): string[] {
    return [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      this.dir,
      "--save",
      "",
      "--appendonly",
      this.options.appendOnly ? "yes" : "no",
      "--appendfsync",
      "always",
      "--daemonize",
      "no",
      "--logfile",
      "",
      ...(this.options.replicaOf === undefined ? [] : ["--replicaof", "127.0.0.1", String(this.options.replicaOf)]),
    ];
  }

  private untilReady(child: ChildProcess, ready: string): Promise<void> {
    running.add(child);
    this.child = child;
    return new Promise<void>((resolve, reject) => {
      let output = "";
      const timer = setTimeout(() => fail(new Error(`no "ready" within ${START_TIMEOUT_MS} ms: ${output}`)), START_TIMEOUT_MS);
      const fail = (error: Error) => {
        clearTimeout(timer);
        if (child.pid !== undefined) safeKill(child.pid, "SIGKILL");
        this.forget(child);
        reject(error);
      };
      child.once("error", fail);
      child.once("exit", (code) => fail(new Error(`redis-server exited with ${code}: ${output}`)));
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(ready)) {
          clearTimeout(timer);
          child.removeAllListeners("exit");
          child.stdout?.removeListener("data", onData);
          child.stdout?.resume();
          child.once("exit", () => this.forget(child));
          resolve();
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once("exit", () => resolve());
    });
    safeKill(child.pid, signal);
    const timer = setTimeout(() => child.pid !== undefined && safeKill(child.pid, "SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    this.forget(child);
  }

  private forget(child: ChildProcess): void {
    running.delete(child);
    if (this.child === child) this.child = undefined;
  }
}

/** Starts `count` independent servers. */
export async function startRedisServers(count: number, options: RedisServerOptions = {}): Promise<RedisServer[]> {
  const servers: RedisServer[] = [];
  for (let i = 0; i < count; i++) servers.push(await RedisServer.start(options));
  return servers;
}

/** A port the OS considers free on 127.0.0.1 right now. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function safeKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
