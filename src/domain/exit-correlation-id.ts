import { createHash } from "node:crypto";

/** What makes a tracker itself and not an earlier one with the same order_no. */
export interface TrackerIdentity {
  readonly orderNo: string;
  /** When the tracker was registered, epoch ms. */
  readonly createdAt: number;
}

/**
 * The correlation id of exit attempt `attempt` of `tracker`.
 *
 * Deterministic, so a restarted process (or another one) derives the same id
 * for the same attempt and can look the order up instead of placing it again.
 * The registration time is part of it: an order_no used again (another day,
 * a store rebuilt from scratch) gets ids of its own, so looking up its first
 * exit can never find the earlier tracker's order and take it for its own.
 * At most 25 characters of [A-Za-z0-9-], the broker's limit for correlation ids.
 */
export function exitCorrelationId(tracker: TrackerIdentity, attempt: number): string {
  const digest = createHash("sha256").update(`${tracker.createdAt}\n${tracker.orderNo}`, "utf8").digest("hex").slice(0, 16);
  return `x${digest}-${attempt}`;
}

/**
 * The correlation id of slice `index` (0-based) of an attempt sent as several
 * orders (above the exchange's freeze quantity): the attempt's id and `s1`,
 * `s2`, … (at most 23 characters for attempts and slices under 100). An
 * unsliced attempt's order carries the attempt's id itself, so no order of a
 * sliced attempt ever does: an order update for one slice can never be taken
 * for the attempt's whole order.
 */
export function sliceCorrelationId(attemptCorrelationId: string, index: number): string {
  return `${attemptCorrelationId}s${index + 1}`;
}

/** The attempt a slice's correlation id belongs to; undefined for an id that is not a slice's. */
export function attemptOfSlice(correlationId: string): string | undefined {
  return /^(x[0-9a-f]{16}-\d+)s\d+$/.exec(correlationId)?.[1];
}
