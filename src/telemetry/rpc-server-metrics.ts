/**
 * The `rpc.server.duration` histogram of the RPC semantic conventions, in
 * milliseconds (the unit those conventions give it), beside tradingcore's own
 * metrics: a dashboard built for any gRPC server reads it without knowing
 * ours. Attributes: rpc.system, rpc.service, rpc.method and the status
 * (rpc-conventions.ts). Every call is measured, health checks included.
 */
import { type Attributes, type Meter, ValueType } from "@opentelemetry/api";
import type { CallMiddleware } from "../rpc/call-middleware.js";
import { toConnectError } from "../rpc/error-codes.js";
import { rpcStatusAttributes, rpcSystemOf } from "./rpc-conventions.js";
import { LATENCY_BUCKETS_MS } from "./trading-core-metrics.js";

export function rpcServerMetricsMiddleware(meter: Meter): CallMiddleware {
  const duration = meter.createHistogram("rpc.server.duration", {
    description: "Duration of inbound RPCs",
    unit: "ms",
    valueType: ValueType.DOUBLE,
    advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
  });
  // One attribute object per method, system and status, so that a call allocates none.
  const attributeSets = new Map<string, Attributes>();
  const attributesOf = (service: string, method: string, system: "grpc" | "connect_rpc", code: number): Attributes => {
    const key = `${system}\n${service}\n${method}\n${code}`;
    let attributes = attributeSets.get(key);
    if (!attributes) {
      attributes = { "rpc.system": system, "rpc.service": service, "rpc.method": method, ...rpcStatusAttributes(system, code) };
      attributeSets.set(key, attributes);
    }
    return attributes;
  };
  return async (call, next) => {
    const started = performance.now();
    let code = 0;
    try {
      await next();
    } catch (error) {
      code = toConnectError(error).code;
      throw error;
    } finally {
      duration.record(performance.now() - started, attributesOf(call.service, call.method, rpcSystemOf(call), code));
    }
  };
}
