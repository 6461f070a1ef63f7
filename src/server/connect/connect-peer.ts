/**
 * The caller's connection (`address:port`) as a Connect context value, so the
 * call middleware can key per-connection limits on the Connect engine as it
 * does on grpc-js.
 */
import { createContextKey, createContextValues, type ContextValues } from "@connectrpc/connect";
import type * as http from "node:http";
import type * as http2 from "node:http2";

type NodeServerRequest = http.IncomingMessage | http2.Http2ServerRequest;

export const PEER = createContextKey<string>("unknown", { description: "remote address:port of the call's connection" });

export function peerContextValues(request: NodeServerRequest): ContextValues {
  const socket = request.socket;
  return createContextValues().set(PEER, `${socket.remoteAddress ?? "unknown"}:${socket.remotePort ?? 0}`);
}
