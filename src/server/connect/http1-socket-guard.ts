/**
 * The HTTP/1.1 side of the connect engine's connection bounds (see
 * http2-session-guard.ts for HTTP/2), so a browser's or curl's connection is
 * held to the same settings:
 *
 * - handshake: a connection that has not sent its first request's headers
 *   within `handshakeTimeoutMs` of being accepted is destroyed (a socket that
 *   sends nothing, or half a request line, would otherwise stay open);
 * - keepalive: HTTP/1.1 has no ping, so TCP keepalive probes every
 *   `keepaliveIntervalMs` find a peer that vanished;
 * - idle: a kept-alive connection with no request open for `idleTimeoutMs` is
 *   closed (node's `keepAliveTimeout`).
 *
 * One request at a time per connection, so `--max-concurrent-streams` holds
 * by itself.
 */
import type * as http from "node:http";
import type { Socket } from "node:net";
import type { SessionLimits } from "../http2-session-guard.js";

export interface Http1Sockets {
  /** Starts the bounds of one accepted HTTP/1.1 connection. */
  accepted(socket: Socket): void;
  /** Ends idle connections now, and each busy one when its answer is sent. */
  closeAll(): void;
  /** Destroys every connection left. */
  destroyAll(): void;
}

/** Tracks the HTTP/1.1 connections `server` serves, bounded by `limits` when given. */
export function guardHttp1(
  server: http.Server | { on(event: "request", listener: (request: http.IncomingMessage, response: http.ServerResponse) => void): unknown },
  limits: SessionLimits | undefined,
): Http1Sockets {
  const busy = new Map<Socket, number>();
  const handshakes = new Map<Socket, NodeJS.Timeout>();
  let closing = false;
  if (limits && "keepAliveTimeout" in server) server.keepAliveTimeout = limits.idleTimeoutMs;
  server.on("request", (request, response) => {
    // Behind TLS one server takes both protocols; HTTP/2 streams are the session guard's.
    if (request.httpVersionMajor !== 1) return;
    const socket = request.socket;
    clearTimeout(handshakes.get(socket));
    handshakes.delete(socket);
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    response.once("close", () => {
      const left = (busy.get(socket) ?? 1) - 1;
      if (busy.has(socket)) busy.set(socket, left);
      if (closing && left === 0) socket.end();
    });
    if (closing) response.setHeader("Connection", "close");
  });
  return {
    accepted(socket) {
      busy.set(socket, 0);
      socket.once("close", () => {
        busy.delete(socket);
        clearTimeout(handshakes.get(socket));
        handshakes.delete(socket);
      });
      if (!limits) return;
      handshakes.set(socket, setTimeout(() => socket.destroy(), limits.handshakeTimeoutMs).unref());
      if (limits.keepaliveIntervalMs > 0) socket.setKeepAlive(true, limits.keepaliveIntervalMs);
    },
    closeAll() {
      closing = true;
      for (const [socket, open] of busy) if (open === 0) socket.end();
    },
    destroyAll() {
      for (const socket of busy.keys()) socket.destroy();
    },
  };
}
