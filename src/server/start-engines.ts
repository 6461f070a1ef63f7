/**
 * Starts the server engines a configuration asks for over the handlers:
 * grpc-js (gRPC clients) and connect-node (gRPC, gRPC-Web, Connect), each
 * with the same middleware and the same handlers, health and reflection
 * included.
 */
import type { Config } from "../config.js";
import type { CallMiddleware } from "./call-middleware.js";
import { startConnectEngine, type RunningEngine } from "./connect-engine.js";
import { startGrpcJsEngine } from "./grpc-js-engine.js";
import { reflectionServices } from "./reflection-service.js";
import { registerRoutes, tradingCoreServices } from "./routes.js";
import type { TradingCoreServices } from "./services.js";
import type { TlsMaterial } from "./tls-material.js";

export type EngineSettings = Pick<
  Config,
  | "engine"
  | "host"
  | "port"
  | "connectPort"
  | "maxMessageBytes"
  | "maxConcurrentStreams"
  | "handshakeTimeoutMs"
  | "keepaliveIntervalMs"
  | "keepaliveTimeoutMs"
  | "connectionIdleTimeoutMs"
  | "corsAllowedOrigins"
>;

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
  const limits = { maxMessageBytes: config.maxMessageBytes, maxConcurrentStreams: config.maxConcurrentStreams, sessionLimits, ...(tls ? { tls } : {}) };
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
        await startConnectEngine({ host: config.host, port, routes: (r) => registerRoutes(r, services, middleware), log: services.log, corsAllowedOrigins: config.corsAllowedOrigins, ...limits }),
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
