/**
 * The settings that bound connections and what a connection may hold open:
 * HTTP/2 keepalive, idle and handshake timeouts, and the tick cache's size.
 * Part of SETTINGS (config.ts); same flag and variable rules.
 */
import { integer, origins } from "./config-parsers.js";

export const TRANSPORT_SETTINGS = {
  keepaliveIntervalMs: {
    flag: "keepalive-interval-ms",
    description: "the server pings every connection this often (HTTP/2 PING), ms; 0: never",
    defaultValue: 60_000,
    parse: integer(0, 86_400_000),
  },
  keepaliveTimeoutMs: {
    flag: "keepalive-timeout-ms",
    description: "a connection that leaves a ping unanswered this long is closed, ms",
    defaultValue: 20_000,
    parse: integer(1, 600_000),
  },
  connectionIdleTimeoutMs: {
    flag: "connection-idle-timeout-ms",
    description: "a connection with no call open this long is closed (GOAWAY; clients reconnect), ms; 0: never",
    defaultValue: 3_600_000,
    parse: integer(0, 604_800_000),
  },
  handshakeTimeoutMs: {
    flag: "handshake-timeout-ms",
    description:
      "a connection must finish its TLS handshake and send its HTTP/2 preface (or its first HTTP/1.1 request's headers) within this, ms (connect engine; on grpc-js the keepalive bounds it)",
    defaultValue: 10_000,
    parse: integer(1, 600_000),
  },
  corsAllowedOrigins: {
    flag: "cors-allowed-origins",
    description:
      "comma-separated browser origins (https://app.example:8443) whose pages may call the connect engine (CORS); * for any; none by default",
    defaultValue: [] as string[],
    parse: origins,
  },
  maxTickInstruments: {
    flag: "max-tick-instruments",
    description: "most instruments the tick cache holds; past it, ticks of new instruments are rejected",
    defaultValue: 200_000,
    parse: integer(1, 10_000_000),
  },
};
