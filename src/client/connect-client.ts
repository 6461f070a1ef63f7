/**
 * `tradingcore/connect`: the typed client a Node strategy imports. connect's
 * createClient over the gRPC transport (HTTP/2), which either port answers
 * (grpc-js on 50051, connect on 50052), with the bearer token sent on every
 * call when one is given. One HTTP/2 connection serves every service;
 * `close()` ends it.
 */
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import { SessionService } from "../../gen/tradingcore/v1/session_pb.js";
import { TickService } from "../../gen/tradingcore/v1/tick_pb.js";

export interface TradingCoreClientOptions {
  /** The server, `http://127.0.0.1:50051` (or `https://…` for a TLS server). */
  readonly baseUrl: string;
  /** The server's `TRADINGCORE_AUTH_TOKEN`, sent as `authorization: Bearer <token>`. */
  readonly token?: string;
  /** Deadline of each call unless the call gives its own (`{ timeoutMs }`), ms. */
  readonly timeoutMs?: number;
  /** More interceptors, run after the one that adds the token. */
  readonly interceptors?: Interceptor[];
}

export interface TradingCoreClient {
  readonly exits: Client<typeof ExitService>;
  readonly ticks: Client<typeof TickService>;
  /** The dead-man switch: OpenSession, Heartbeat, CloseSession. */
  readonly sessions: Client<typeof SessionService>;
  /** Closes the connection; calls after it fail. */
  close(): void;
}

export function createTradingCoreClient(options: TradingCoreClientOptions): TradingCoreClient {
  const interceptors: Interceptor[] = [];
  const token = options.token;
  if (token !== undefined) {
    interceptors.push((next) => (request) => {
      request.header.set("authorization", `Bearer ${token}`);
      return next(request);
    });
  }
  interceptors.push(...(options.interceptors ?? []));
  const sessionManager = new Http2SessionManager(options.baseUrl);
  const transport = createGrpcTransport({
    baseUrl: options.baseUrl,
    sessionManager,
    interceptors,
    ...(options.timeoutMs === undefined ? {} : { defaultTimeoutMs: options.timeoutMs }),
  });
  return {
    exits: createClient(ExitService, transport),
    ticks: createClient(TickService, transport),
    sessions: createClient(SessionService, transport),
    close: () => sessionManager.abort(),
  };
}
