/**
 * One cleartext port for HTTP/2 with prior knowledge (gRPC clients) and
 * HTTP/1.1 (Connect and gRPC-Web from browsers and curl). node's http2 server
 * falls back to HTTP/1.1 only behind TLS, where ALPN says which one the client
 * speaks; in cleartext, the first bytes say it: the HTTP/2 connection preface
 * starts with "PRI", which no HTTP/1.1 method does.
 */
import * as net from "node:net";

const PREFACE_START = Buffer.from("PRI");

export interface SplitTargets {
  http2(socket: net.Socket): void;
  http1(socket: net.Socket): void;
  /** A connection sent neither in time (`handshakeTimeoutMs`). */
  readonly handshakeTimeoutMs?: number;
}

export interface SplitServer extends net.Server {
  /** Destroys the connections that have not said yet which protocol they speak (no call can be open on them). */
  destroyUndecided(): void;
}

/** A server that reads each connection's first bytes and hands it on, those bytes put back. */
export function cleartextSplit(targets: SplitTargets): SplitServer {
  const undecided = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    undecided.add(socket);
    // The check waits for one turn of the event loop after the timer: when the process was busy past the
    // bound, bytes the client sent in time are read first rather than the connection cut before they are.
    const expire = () => setImmediate(() => undecided.has(socket) && socket.destroy());
    const timer = targets.handshakeTimeoutMs === undefined ? undefined : setTimeout(expire, targets.handshakeTimeoutMs).unref();
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const length = Math.min(seen.length, PREFACE_START.length);
      const http2 = seen.subarray(0, length).equals(PREFACE_START.subarray(0, length));
      if (http2 && seen.length < PREFACE_START.length) return;
      socket.off("data", onData);
      socket.off("close", onClose);
      undecided.delete(socket);
      clearTimeout(timer);
      socket.pause();
      socket.unshift(seen);
      if (http2) targets.http2(socket);
      else {
        targets.http1(socket);
        // node's HTTP/1.1 parser reads the socket's native handle; the bytes put back reach it as a 'data' event.
        socket.resume();
      }
    };
    const onClose = () => {
      clearTimeout(timer);
      undecided.delete(socket);
    };
    socket.on("data", onData);
    socket.once("close", onClose);
    socket.on("error", () => socket.destroy());
  });
  return Object.assign(server, {
    destroyUndecided() {
      for (const socket of undecided) socket.destroy();
    },
  });
}
