/**
 * A real tradingcore server on an ephemeral loopback port, with grpc-js
 * clients for each service. Adapters may be swapped for tests (a flaky store,
 * a router with injected faults); everything else is the production wiring.
 */
import { pino } from "pino";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import { SessionService } from "../../gen/tradingcore/v1/session_pb.js";
import { TickService } from "../../gen/tradingcore/v1/tick_pb.js";
import { createGrpcJsClient } from "../../src/client/grpc-js-client.js";
import { defaultConfig, type Config } from "../../src/config.js";
import { startTradingCore, type AdapterOverrides, type RunningTradingCore } from "../../src/main.js";
import { PaperRouter } from "../../src/router/paper-router.js";

/** The engine tests run against: `TRADINGCORE_TEST_ENGINE` (grpc-js or connect), grpc-js when unset. */
export function testEngine(): TestEngine {
  const engine = process.env.TRADINGCORE_TEST_ENGINE ?? "grpc-js";
  if (engine !== "grpc-js" && engine !== "connect") throw new Error(`TRADINGCORE_TEST_ENGINE must be grpc-js or connect, not "${engine}"`);
  return engine;
}

export type TestEngine = "grpc-js" | "connect";

/** Both engines, for suites that compare them side by side (`describe.each(ENGINES)`). */
export const ENGINES: readonly TestEngine[] = ["grpc-js", "connect"];

export interface TestServerOptions {
  readonly config?: Partial<Config>;
  readonly adapters?: AdapterOverrides;
  /** The one engine to serve on; `testEngine()` when absent. */
  readonly engine?: TestEngine;
}

export interface TestServer {
  readonly core: RunningTradingCore;
  readonly engine: TestEngine;
  readonly address: string;
  readonly exits: ReturnType<typeof createGrpcJsClient<(typeof ExitService)["method"]>>;
  readonly ticks: ReturnType<typeof createGrpcJsClient<(typeof TickService)["method"]>>;
  readonly health: ReturnType<typeof createGrpcJsClient<(typeof Health)["method"]>>;
  readonly sessions: ReturnType<typeof createGrpcJsClient<(typeof SessionService)["method"]>>;
  /** The paper router the server uses (the one passed in, or a fresh fault-free one). */
  readonly paper: PaperRouter;
  close(): Promise<void>;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const paper = options.adapters?.router instanceof PaperRouter ? options.adapters.router : new PaperRouter();
  const engine = options.engine ?? testEngine();
  const config: Config = { ...defaultConfig(), port: 0, logLevel: "silent", shutdownGraceMs: 2_000, ...options.config, engine };
  const core = await startTradingCore(config, {
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    router: paper,
    ...options.adapters,
  });
  const exits = createGrpcJsClient(ExitService, core.address);
  const ticks = createGrpcJsClient(TickService, core.address);
  const health = createGrpcJsClient(Health, core.address);
  const sessions = createGrpcJsClient(SessionService, core.address);
  return {
    core,
    engine,
    address: core.address,
    exits,
    ticks,
    health,
    sessions,
    paper,
    async close() {
      exits.close();
      ticks.close();
      health.close();
      sessions.close();
      await core.stop();
    },
  };
}
