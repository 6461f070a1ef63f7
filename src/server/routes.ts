import type { ConnectRouter } from "@connectrpc/connect";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import { SessionService } from "../../gen/tradingcore/v1/session_pb.js";
import { TickService } from "../../gen/tradingcore/v1/tick_pb.js";
import type { CallMiddleware } from "../rpc/call-middleware.js";
import { withConnectMiddleware } from "./connect/connect-middleware.js";
import { executeExitRefusal, exitServiceHandlers } from "./handlers/exit-service.js";
import { healthServiceHandlers } from "./handlers/health-service.js";
import { sessionServiceHandlers } from "./handlers/session-service.js";
import { reflectionServices } from "./handlers/reflection-service.js";
import { guardedHandlers } from "./middleware/request-guard.js";
import type { TradingCoreServices } from "./handlers/services.js";
import { tickServiceHandlers } from "./handlers/tick-service.js";
import { utf8TolerantService } from "./middleware/undecodable-request.js";

/** Fully-qualified names of the services this server has, for health and reflection. */
export const SERVED_SERVICES = [ExitService.typeName, TickService.typeName, SessionService.typeName] as const;

/** Server streams with no end of their own, closed by a shutdown rather than waited for. */
export const SUBSCRIPTIONS = [
  `${Health.typeName}/Watch`,
  `${ExitService.typeName}/WatchExits`,
  `${TickService.typeName}/StreamLtp`,
  "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
  "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
] as const;

/** The handlers of every service, for any engine, each behind the request checks of its method (request-guard.ts). */
export function tradingCoreServices(services: TradingCoreServices) {
  return [
    { service: ExitService, handlers: guardedHandlers(ExitService, exitServiceHandlers(services), { executeExit: executeExitRefusal }) },
    { service: TickService, handlers: guardedHandlers(TickService, tickServiceHandlers(services)) },
    { service: SessionService, handlers: guardedHandlers(SessionService, sessionServiceHandlers(services)) },
    { service: Health, handlers: guardedHandlers(Health, healthServiceHandlers(services.health)) },
  ] as const;
}

/**
 * Registers every service on a Connect router, each handler run inside
 * `middleware`, with server reflection over all of them.
 */
export function registerRoutes(router: ConnectRouter, services: TradingCoreServices, middleware: readonly CallMiddleware[] = []): void {
  const served = tradingCoreServices(services);
  for (const { service, handlers } of served) {
    // connect-node has no hook around its decoder: it decodes invalid UTF-8 as U+FFFD, which the request checks refuse.
    router.service(utf8TolerantService(service) as never, withConnectMiddleware(service, handlers, middleware) as never);
  }
  for (const { service, handlers } of reflectionServices(served.map((each) => each.service))) {
    router.service(service as never, withConnectMiddleware(service, handlers, middleware) as never);
  }
}
