/**
 * A context manager that keeps no active context: `context.active()` is
 * always the root, and `with` just runs its function. The sidecar passes span
 * parents explicitly (exit/exit-tracing.ts, server/call-trace.ts), so nothing
 * needs one; the SDK's default, AsyncLocalStorage, would put a hook on every
 * promise of the process on Node 20 and cost traced exits about a quarter of
 * their CPU.
 */
import { type Context, type ContextManager, ROOT_CONTEXT } from "@opentelemetry/api";

export class ExplicitContextManager implements ContextManager {
  active(): Context {
    return ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(_context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return fn.call(thisArg, ...args);
  }

  bind<T>(_context: Context, target: T): T {
    return target;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    return this;
  }
}
