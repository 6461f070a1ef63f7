/**
 * A tradingcore server in this process with both engines on ephemeral
 * loopback ports (grpc-js, and connect for gRPC, gRPC-Web and Connect), for
 * clients written in other languages.
 */
import { pino } from "pino";
import { defaultConfig, type Config } from "../../../src/config.js";
import { startTradingCore, type RunningTradingCore } from "../../../src/main.js";
import { PaperRouter } from "../../../src/router/paper-router.js";

export interface InteropServer {
  readonly core: RunningTradingCore;
  /** Each engine by name with its `host:port`. */
  readonly engines: readonly { readonly engine: "grpc-js" | "connect"; readonly address: string }[];
  readonly paper: PaperRouter;
}

export async function startInteropServer(config: Partial<Config> = {}): Promise<InteropServer> {
  const paper = new PaperRouter();
  const core = await startTradingCore(
    { ...defaultConfig(), port: 0, connectPort: 0, engine: "both", logLevel: "silent", shutdownGraceMs: 5_000, ...config },
    { router: paper, log: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }) },
  );
  return {
    core,
    paper,
    engines: [
      { engine: "grpc-js", address: core.address },
      { engine: "connect", address: core.connectAddress! },
    ],
  };
}
