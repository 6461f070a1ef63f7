/**
 * One SERVER span per call, named after the method (`ExecuteExit`), on
 * every engine. A W3C `traceparent` in the request metadata makes it a
 * child of the caller's span, so a strategy's trace carries on into ours.
 * The span's context goes to the handler in the call's values (CALL_TRACE)
 * and is the active context while the handler runs: the exit step spans are
 * its children, and the engine sets order_no and exit.status on it.
 *
 * Attributes: rpc.system, rpc.service, rpc.method (given to the sampler),
 * then, only on a span that records, the status (rpc-conventions.ts) and
 * tradingcore.engine. Headers themselves are never recorded (they may carry
 * bearer tokens).
 *
 * Health checks and reflection get no span unless `traceProbes`: a
 * load balancer checking every second would otherwise fill the trace backend.
 */
import { context as contextApi, ROOT_CONTEXT, SpanKind, SpanStatusCode, type TextMapGetter, propagation, trace } from "@opentelemetry/api";
import type { CallHeaders, CallMiddleware } from "../rpc/call-middleware.js";
import { CALL_TRACE } from "../rpc/call-trace.js";
import { toConnectError } from "../rpc/error-codes.js";
import { PROBE_SERVICES, rpcStatusAttributes, rpcSystemOf } from "./rpc-conventions.js";

const headerGetter: TextMapGetter<CallHeaders> = {
  get: (carrier, key) => carrier.get(key),
  keys: () => [],
};

export interface TracingOptions {
  /** Trace health checks and reflection calls too. */
  readonly traceProbes?: boolean;
}

export function tracingMiddleware(options: TracingOptions = {}): CallMiddleware {
  const tracer = trace.getTracer("tradingcore.server");
  const traceProbes = options.traceProbes ?? false;
  return async (call, next) => {
    if (!traceProbes && PROBE_SERVICES.has(call.service)) return next();
    const parent = propagation.extract(ROOT_CONTEXT, call.headers, headerGetter);
    const system = rpcSystemOf(call);
    // What a sampler may decide on goes in at the start (the RPC conventions name rpc.system, rpc.service
    // and rpc.method for that); the rest only once the span is known to record, so that a call the
    // sampler leaves out builds no attributes beyond those three.
    const attributes = { "rpc.system": system, "rpc.service": call.service, "rpc.method": call.method };
    const span = tracer.startSpan(call.method, { kind: SpanKind.SERVER, attributes }, parent);
    const recording = span.isRecording();
    if (recording) span.setAttribute("tradingcore.engine", call.engine);
    const context = trace.setSpan(parent, span);
    call.values.set(CALL_TRACE, context);
    try {
      // Also the active context while the handler runs, so that spans started from context.active()
      // (startActiveSpan, a library's instrumentation) are children of the server span too.
      await contextApi.with(context, next);
      if (recording) span.setAttributes(rpcStatusAttributes(system, 0));
    } catch (error) {
      if (recording) {
        const status = toConnectError(error);
        span.setAttributes(rpcStatusAttributes(system, status.code));
        span.recordException(status);
        span.setStatus({ code: SpanStatusCode.ERROR, message: status.rawMessage });
      }
      throw error;
    } finally {
      span.end();
    }
  };
}
