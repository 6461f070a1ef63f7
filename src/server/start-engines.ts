/**
 * Starts the server engines a configuration asks for over the handlers:
 * grpc-js (gRPC clients) and connect-node (gRPC, gRPC-Web, Connect), each
 * with the same middleware and the same handlers, health and reflection
 * included.
 */
import type { CallMiddleware } from "../rpc/call-middleware.js";
import { startConnectEngine, type RunningEngine } from "./connect/connect-engine.js";
import { startGrpcJsEngine } from "./grpc-js/grpc-js-engine.js";
import { reflectionServices } from "./handlers/reflection-service.js";
import { registerRoutes, tradingCoreServices } from "./routes.js";
import type { TradingCoreServices } from "./handlers/services.js";
import type { TlsMaterial } from "./tls-material.js";

/** What the engines need from the configuration; main.ts passes its Config, which has all of it. */
export interface EngineSettings {
  readonly engine: "grpc-js" | "connect" | "both";
  readonly host: string;
  readonly port: number;
  /** The connect engine's port when both engines run. */
  readonly connectPort: number;
  readonly maxMessageBytes: number;
  readonly maxConcurrentStreams: number;
  readonly handshakeTimeoutMs: number;
  readonly keepaliveIntervalMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly connectionIdleTimeoutMs: number;
  readonly corsAllowedOrigins: readonly string[];
}

/** The configured engines, grpc-js first; if one fails to listen, those already listening are closed. */
export async function startEngines(
  config: EngineSettings,
  services: TradingCoreServices,
  middleware: readonly CallMiddleware[],
  tls: TlsMaterial | undefined,
): Promise<RunningEngine[]> {
  const sessionLimits = {
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    keepaliveIntervalMs: config.keepaliveIntervalMs,
    keepaliveTimeoutMs: config.keepaliveTimeoutMs,
    idleTimeoutMs: config.connectionIdleTimeoutMs,
  };
  const limits = {
    maxMessageBytes: config.maxMessageBytes,
    maxConcurrentStreams: config.maxConcurrentStreams,
    sessionLimits,
    ...(tls ? { tls } : {}),
  };
  const engines: RunningEngine[] = [];
  try {
    if (config.engine !== "connect") {
      engines.push(
        await startGrpcJsEngine({
          host: config.host,
          port: config.port,
          services: withReflection(tradingCoreServices(services)),
          middleware,
          log: services.log,
          ...limits,
        }),
      );
    }
    if (config.engine !== "grpc-js") {
      const port = config.engine === "both" ? config.connectPort : config.port;
      engines.push(
        await startConnectEngine({
          host: config.host,
          port,
          routes: (r) => registerRoutes(r, services, middleware),
          log: services.log,
          corsAllowedOrigins: config.corsAllowedOrigins,
          ...limits,
        }),
      );
    }
  } catch (error) {
    await Promise.all(engines.map((engine) => engine.close(0)));
    throw error;
  }
  return engines;
}

function withReflection(served: ReturnType<typeof tradingCoreServices>) {
  return [...served, ...reflectionServices(served.map(({ service }) => service))];
}
