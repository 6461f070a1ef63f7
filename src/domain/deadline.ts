import { TradingCoreError } from "./trading-core-error.js";

/**
 * Runs `work` with an AbortSignal that fires after `ms`, and rejects with a
 * `timeout` TradingCoreError at that moment even if `work` ignores the signal.
 * A bound on waiting, not on the work: what `work` started may still finish.
 */
export async function withDeadline<T>(ms: number, what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new TradingCoreError("timeout", `${what}: no answer within ${ms} ms`);
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves or rejects as `work` does, or rejects with a `timeout`
 * TradingCoreError after `ms`, whichever comes first. For work that takes no
 * AbortSignal (a Redis command): one timer and no AbortController, which on
 * a hot path costs more than the command's own bookkeeping.
 */
export function beforeDeadline<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TradingCoreError("timeout", `${what}: no answer within ${ms} ms`)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
