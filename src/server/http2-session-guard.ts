/**
 * Bounds the life of the connect engine's HTTP/2 connections, as grpc-js's
 * server options do on the other engine:
 *
 * - handshake: a connection whose client has not sent its preface and
 *   SETTINGS within `handshakeTimeoutMs` is destroyed (a socket that sends
 *   nothing, or half a preface, would otherwise stay open forever);
 * - keepalive: every `keepaliveIntervalMs` the server pings; a ping left
 *   unanswered for `keepaliveTimeoutMs` destroys the connection (a peer that
 *   vanished without a FIN, a half-open connection);
 * - idle: a connection with no stream open for `idleTimeoutMs` is closed
 *   gracefully (GOAWAY; clients reconnect on their next call).
 *
 * Every timer is unref'd and cleared when the session closes. 0 turns
 * keepalive or idle off.
 */
import type * as http2 from "node:http2";

export interface SessionLimits {
  readonly handshakeTimeoutMs: number;
  readonly keepaliveIntervalMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

/** Applies `limits` to every session the server opens. */
export function guardSessions(server: http2.Http2Server | http2.Http2SecureServer, limits: SessionLimits): void {
  server.on("session", (session: http2.ServerHttp2Session) => guardSession(session, limits));
}

function guardSession(session: http2.ServerHttp2Session, limits: SessionLimits): void {
  const timers = new Set<NodeJS.Timeout>();
  const after = (ms: number, run: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms).unref();
    timers.add(timer);
    return timer;
  };
  const cancel = (timer: NodeJS.Timeout | undefined) => {
    if (timer === undefined) return;
    clearTimeout(timer);
    timers.delete(timer);
  };
  session.once("close", () => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  });

  const handshake = after(limits.handshakeTimeoutMs, () => session.destroy());
  session.once("remoteSettings", () => cancel(handshake));

  if (limits.keepaliveIntervalMs > 0) {
    const ping = () => {
      if (session.destroyed || session.closed) return;
      const unanswered = after(limits.keepaliveTimeoutMs, () => session.destroy());
      let sent = false;
      try {
        sent = session.ping((error) => {
          cancel(unanswered);
          if (error) session.destroy();
          else after(limits.keepaliveIntervalMs, ping);
        });
      } catch {
        // Pings already waiting for their answer: the peer is not answering.
      }
      if (!sent) session.destroy();
    };
    after(limits.keepaliveIntervalMs, ping);
  }

  if (limits.idleTimeoutMs > 0) {
    let open = 0;
    let idle: NodeJS.Timeout | undefined = after(limits.idleTimeoutMs, () => session.close());
    session.on("stream", (stream: http2.ServerHttp2Stream) => {
      open++;
      cancel(idle);
      idle = undefined;
      stream.once("close", () => {
        if (--open === 0 && !session.closed) idle = after(limits.idleTimeoutMs, () => session.close());
      });
    });
  }
}
