import { createHash } from "node:crypto";

/**
 * The correlation id of exit attempt `attempt` of tracker `orderNo`.
 *
 * Deterministic, so a restarted process (or another one) derives the same id
 * for the same attempt and can look the order up instead of placing it again.
 * At most 25 characters of [A-Za-z0-9-], the broker's limit for correlation ids.
 */
export function exitCorrelationId(orderNo: string, attempt: number): string {
  const digest = createHash("sha256").update(orderNo, "utf8").digest("hex").slice(0, 16);
  return `x${digest}-${attempt}`;
}
