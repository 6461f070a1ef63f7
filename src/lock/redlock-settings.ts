/** Tuning of the Redlock algorithm; every duration in ms. */
export interface RedlockSettings {
  /** Acquisition rounds at most when no holder has a quorum (split votes, node errors); 1 = no retry. */
  readonly attempts: number;
  /** Pause before a retry: retryDelayMs plus a uniform random share of retryJitterMs, so contenders spread out. */
  readonly retryDelayMs: number;
  readonly retryJitterMs: number;
  /** Longest wait for one node's answer; small against the TTL so a dead node costs little validity. */
  readonly nodeTimeoutMs: number;
  /** Clock drift allowance = ttl × driftFactor + driftConstantMs, taken off the validity. */
  readonly driftFactor: number;
  readonly driftConstantMs: number;
  /** A held lock is extended every ttl × extendFraction while it is held. */
  readonly extendFraction: number;
  /**
   * A resource's fence counter is dropped from a node this long after the
   * resource was last locked (days: far above any lock TTL and clock offset,
   * so a counter started again still counts above every earlier token).
   */
  readonly fenceIdleTtlMs: number;
  /** Put before every resource, so the lock key and its fence counter live under the deployment's key prefix. */
  readonly keyPrefix: string;
}

export const DEFAULT_REDLOCK_SETTINGS: RedlockSettings = {
  attempts: 3,
  retryDelayMs: 30,
  retryJitterMs: 60,
  nodeTimeoutMs: 100,
  driftFactor: 0.01,
  driftConstantMs: 2,
  extendFraction: 1 / 3,
  fenceIdleTtlMs: 7 * 24 * 3_600_000,
  keyPrefix: "",
};

/** The drift allowance for a TTL, ms. */
export function driftMs(settings: RedlockSettings, ttlMs: number): number {
  return Math.ceil(ttlMs * settings.driftFactor) + settings.driftConstantMs;
}
