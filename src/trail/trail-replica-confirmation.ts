/**
 * The trail's replica confirmation (TRADINGCORE_REDIS_CONFIRM_REPLICAS): a
 * command is followed, on the same connection and in one pipeline, by a
 * write barrier (INCR of `{prefix}replication-barrier`, the store's) and
 * `WAIT replicas timeoutMs`. A replica applies the replication stream in
 * order, so one that acknowledged the barrier holds everything the master
 * held when it ran the command: the batch an append wrote, or every entry a
 * read answered. One pipeline on one connection, so the barrier reaches the
 * server the command did, never a promoted replica that connection moved to
 * meanwhile.
 */
import { TradingCoreError } from "../domain/trading-core-error.js";

export interface TrailReplicaConfirmation {
  /** The store's barrier key, `{prefix}replication-barrier`. */
  readonly barrierKey: string;
  /** Replicas that must acknowledge, >= 1. */
  readonly replicas: number;
  /** WAIT's own timeout, ms. */
  readonly timeoutMs: number;
}

interface Pipeline<B> {
  sendCommand(args: string[]): B;
  execAsPipeline(): Promise<unknown[]>;
}

/**
 * Runs `batch` (one command queued) with the barrier after it; answers the
 * command's reply. Throws `unavailable` when fewer replicas confirmed in time:
 * the caller neither drops what it appended nor delivers what it read.
 */
export async function withReplicaConfirmation<B extends Pipeline<B>>(
  batch: B,
  confirmation: TrailReplicaConfirmation,
  what: string,
): Promise<unknown> {
  const { barrierKey, replicas, timeoutMs } = confirmation;
  const replies = await batch
    .sendCommand(["INCR", barrierKey])
    .sendCommand(["WAIT", String(replicas), String(timeoutMs)])
    .execAsPipeline();
  const [reply, , acknowledged] = replies;
  if (reply instanceof Error) throw reply;
  if (Number(acknowledged) < replicas) {
    throw new TradingCoreError(
      "unavailable",
      `${what}: ${Number(acknowledged)} of ${replicas} replicas confirmed it within ${timeoutMs} ms`,
    );
  }
  return reply;
}
