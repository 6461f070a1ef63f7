/**
 * tradingcore as a separate OS process for tests of start-up, signals and
 * crashes, on the engine this test project runs (TRADINGCORE_TEST_ENGINE,
 * both when unset). Stopped by pid, never by name.
 */
import { startTradingCoreProcess, type TradingCoreProcess } from "../../src/loadtest/tradingcore-process.js";

export type ServerProcess = TradingCoreProcess;

export function startServerProcess(args: string[] = [], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<ServerProcess> {
  const engine = (process.env.TRADINGCORE_TEST_ENGINE ?? "both") as "grpc-js" | "connect" | "both";
  return startTradingCoreProcess({ engine, args, env, startTimeoutMs: timeoutMs });
}
