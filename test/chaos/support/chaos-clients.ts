/**
 * Several strategy-engine processes (chaos-client-process.ts, forked with
 * tsx) that the scenarios drive. Each runs one plan at a time; `run` starts a
 * plan on every client at once and resolves with every call they made.
 * Stopped by pid; a client still running when this process exits is killed.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { CallRecord, ClientCommand, ClientPlan, ClientReply } from "./client-plan.js";

const SCRIPT = fileURLToPath(new URL("./chaos-client-process.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const START_TIMEOUT_MS = 60_000;

interface Client {
  readonly child: ChildProcess;
  readonly waiting: Map<number, { resolve: (calls: readonly CallRecord[]) => void; reject: (error: Error) => void }>;
}

export class ChaosClients {
  private nextId = 1;

  private constructor(private readonly clients: Client[]) {}

  /** Forks `count` client processes and waits until each is ready. */
  static async start(count: number): Promise<ChaosClients> {
    const clients: Client[] = [];
    const fleet = new ChaosClients(clients);
    try {
      for (let i = 0; i < count; i++) clients.push(await startClient());
      return fleet;
    } catch (error) {
      await fleet.stop();
      throw error;
    }
  }

  get pids(): number[] {
    return this.clients.map((client) => client.child.pid!);
  }

  get count(): number {
    return this.clients.length;
  }

  /** Runs `planFor(i)` on client i, all at once; resolves with every client's calls. */
  async run(planFor: (client: number) => ClientPlan): Promise<CallRecord[]> {
    const runs = this.clients.map((client, index) => {
      const id = this.nextId++;
      const done = new Promise<readonly CallRecord[]>((resolve, reject) => client.waiting.set(id, { resolve, reject }));
      const command: ClientCommand = { kind: "run", id, client: index, plan: planFor(index) };
      client.child.send(command);
      return done;
    });
    return (await Promise.all(runs)).flat();
  }

  /** Stops every client by its pid (SIGKILL if it does not leave on its own). */
  async stop(): Promise<void> {
    await Promise.all(
      this.clients.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        if (child.connected) child.send({ kind: "stop" } satisfies ClientCommand);
        const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(killer);
      }),
    );
  }
}

async function startClient(): Promise<Client> {
  const child = fork(SCRIPT, [], { cwd: ROOT, execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  const client: Client = { child, waiting: new Map() };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`chaos client ${child.pid} not ready within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`chaos client ${child.pid} exited with ${code} before it was ready`));
    });
    child.on("message", (message: ClientReply) => {
      if (message.kind === "ready") {
        clearTimeout(timer);
        resolve();
        return;
      }
      const waiter = client.waiting.get(message.id);
      if (!waiter) return;
      client.waiting.delete(message.id);
      if (message.kind === "done") waiter.resolve(message.calls);
      else waiter.reject(new Error(`chaos client ${child.pid}: ${message.message}`));
    });
  });
  child.removeAllListeners("exit");
  child.once("exit", (code, signal) => {
    process.off("exit", killOnExit);
    for (const waiter of client.waiting.values())
      waiter.reject(new Error(`chaos client ${child.pid} exited (${code ?? signal}) during a plan`));
    client.waiting.clear();
  });
  return client;
}
