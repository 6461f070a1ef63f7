/**
 * One Redis command of the store's adapters, bounded in time: a command that
 * has no answer within `timeoutMs` fails with a `timeout` TradingCoreError,
 * and any Redis error becomes `unavailable`, both named after `what`.
 */
import { beforeDeadline } from "../domain/deadline.js";
import { TradingCoreError } from "../domain/trading-core-error.js";

export async function redisCommand<T>(what: string, timeoutMs: number, operation: () => Promise<T>): Promise<T> {
  try {
    return await beforeDeadline(timeoutMs, what, operation());
  } catch (error) {
    if (error instanceof TradingCoreError) throw error;
    throw new TradingCoreError("unavailable", `${what}: Redis failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
