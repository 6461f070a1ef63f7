/**
 * One SERVER span per call, named after the method (`ExecuteExit`), on
 * every engine. A W3C `traceparent` in the request metadata makes it a
 * child of the caller's span, so a strategy's trace carries on into ours.
 * The span's context goes to the handler in the call's values (CALL_TRACE)
 * and is the active context while the handler runs: the exit step spans are
 * its children, and the engine sets order_no and exit.status on it.
 *
 * Attributes: rpc.system, rpc.service, rpc.method, rpc.grpc.status_code,
 * tradingcore.engine. Headers themselves are never recorded (they may carry
 * bearer tokens).
 */
import { context as contextApi, ROOT_CONTEXT, SpanKind, SpanStatusCode, type TextMapGetter, propagation, trace } from "@opentelemetry/api";
import type { CallHeaders, CallMiddleware } from "../server/call-middleware.js";
import { CALL_TRACE } from "../server/call-trace.js";
import { toConnectError } from "../server/error-codes.js";

const headerGetter: TextMapGetter<CallHeaders> = {
  get: (carrier, key) => carrier.get(key),
  keys: () => [],
};

export function tracingMiddleware(): CallMiddleware {
  const tracer = trace.getTracer("tradingcore.server");
  return async (call, next) => {
    const parent = propagation.extract(ROOT_CONTEXT, call.headers, headerGetter);
    const attributes = { "rpc.system": "grpc", "rpc.service": call.service, "rpc.method": call.method, "tradingcore.engine": call.engine };
    const span = tracer.startSpan(call.method, { kind: SpanKind.SERVER, attributes }, parent);
    const context = trace.setSpan(parent, span);
    call.values.set(CALL_TRACE, context);
    try {
      // Also the active context while the handler runs, so that spans started from context.active()
      // (startActiveSpan, a library's instrumentation) are children of the server span too.
      await contextApi.with(context, next);
      span.setAttribute("rpc.grpc.status_code", 0);
    } catch (error) {
      const status = toConnectError(error);
      span.setAttribute("rpc.grpc.status_code", status.code);
      span.recordException(status);
      span.setStatus({ code: SpanStatusCode.ERROR, message: status.rawMessage });
      throw error;
    } finally {
      span.end();
    }
  };
}
