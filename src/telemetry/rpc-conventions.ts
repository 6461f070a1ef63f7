/**
 * What the RPC semantic conventions of OpenTelemetry say a call is, for the
 * server span and the `rpc.server.duration` metric alike.
 *
 * - `rpc.system`: `grpc` for gRPC and gRPC-Web calls, `connect_rpc` for calls
 *   in the Connect protocol (the connect engine serves all three).
 * - The status: `rpc.grpc.status_code` (a number, 0 when OK) for gRPC;
 *   `rpc.connect_rpc.error_code` (the code's name, `not_found`) for Connect,
 *   set only when the call failed, as that convention says.
 */
import type { Attributes } from "@opentelemetry/api";
import { Code } from "@connectrpc/connect";
import type { CallInfo } from "../rpc/call-middleware.js";

/** Services a health checker or a tool calls, not a strategy: no span unless asked for. */
export const PROBE_SERVICES: ReadonlySet<string> = new Set([
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);

export function rpcSystemOf(call: Pick<CallInfo, "protocol">): "grpc" | "connect_rpc" {
  return call.protocol === "connect" ? "connect_rpc" : "grpc";
}

/** The status attribute of a finished call, `code` being the gRPC/Connect code (0 = OK). */
export function rpcStatusAttributes(system: "grpc" | "connect_rpc", code: number): Attributes {
  if (system === "grpc") return { "rpc.grpc.status_code": code };
  return code === 0 ? {} : { "rpc.connect_rpc.error_code": connectCodeName(code) };
}

function connectCodeName(code: number): string {
  const name = Code[code];
  // Code names are PascalCase (NotFound); the Connect protocol spells them snake_case (not_found).
  return name === undefined ? "unknown" : name.replace(/(?<!^)([A-Z])/g, "_$1").toLowerCase();
}
