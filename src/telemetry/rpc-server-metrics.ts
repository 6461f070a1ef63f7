/**
 * The `rpc.server.duration` histogram of the RPC semantic conventions, in
 * milliseconds (the unit those conventions give it), beside tradingcore's own
 * metrics: a dashboard built for any gRPC server reads it without knowing
 * ours. Attributes: rpc.system, rpc.service, rpc.method and the status
 * (rpc-conventions.ts). Every call is measured, health checks included.
 */
import { type Attributes, type Meter, ValueType } from "@opentelemetry/api";
import type { CallMiddleware } from "../rpc/call-middleware.js";
import { finishedCallMiddleware } from "../rpc/finished-call-middleware.js";
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
  return finishedCallMiddleware((call, code, durationMs) =>
    duration.record(durationMs, attributesOf(call.service, call.method, rpcSystemOf(call), code)),
  );
}
