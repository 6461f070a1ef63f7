/**
 * tradingcore as a separate OS process for tests of start-up, signals and
 * crashes, on the engine this test project runs (TRADINGCORE_TEST_ENGINE,
 * both when unset). Stopped by pid, never by name.
 */
import { createServer, type AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { startTradingCoreProcess, type TradingCoreProcess } from "../../src/loadtest/tradingcore-process.js";

export type ServerProcess = TradingCoreProcess;

export function startServerProcess(
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 30_000,
  knownAddress?: string,
): Promise<ServerProcess> {
  const engine = (process.env.TRADINGCORE_TEST_ENGINE ?? "both") as "grpc-js" | "connect" | "both";
  return startTradingCoreProcess({ engine, args, env, startTimeoutMs: timeoutMs, ...(knownAddress ? { knownAddress } : {}) });
}

/** A loopback port free a moment ago, for a server whose log level drops its "listening" line. */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once a gRPC connection to `address` is up (or rejects after `timeoutMs`). */
export function untilAccepting(address: string, timeoutMs = 30_000): Promise<void> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<void>((resolve, reject) =>
    client.waitForReady(Date.now() + timeoutMs, (error) => (error ? reject(error) : resolve())),
  ).finally(() => client.close());
}
