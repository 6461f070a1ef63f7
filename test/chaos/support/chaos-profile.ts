/**
 * How big and how long a chaos run is. `ci` runs in the normal test suite on
 * a busy two-core machine (servers from source, bounded to a few minutes for
 * every scenario together); `long` is `npm run chaos` (servers from dist/,
 * more trackers, clients and seeds).
 */
import type { ServerBuild } from "./server-launcher.js";

export interface ChaosProfile {
  readonly name: "ci" | "long";
  readonly build: ServerBuild;
  readonly servers: number;
  /** Trackers of the racing scenario; the others use a share of it. */
  readonly trackers: number;
  readonly clients: number;
  readonly rounds: number;
  /** Calls each client keeps in flight. */
  readonly concurrency: number;
  /** Longest wait for the reconcilers to leave nothing EXITING, ms. */
  readonly settleBoundMs: number;
  /** Seeds each scenario runs with. */
  readonly seeds: readonly number[];
}

export const CI_PROFILE: ChaosProfile = {
  name: "ci",
  build: "source",
  servers: 3,
  trackers: 150,
  clients: 3,
  rounds: 2,
  concurrency: 4,
  settleBoundMs: 45_000,
  seeds: [1201],
};

export const LONG_PROFILE: ChaosProfile = {
  name: "long",
  build: "dist",
  servers: 3,
  trackers: 400,
  clients: 6,
  rounds: 3,
  concurrency: 6,
  settleBoundMs: 90_000,
  seeds: [1201, 7, 424242],
};

/** CHAOS_SEED (comma-separated) replaces the profile's seeds: rerun exactly what a report printed. */
export function withSeedsFromEnv(profile: ChaosProfile, env: NodeJS.ProcessEnv = process.env): ChaosProfile {
  const seeds = (env.CHAOS_SEED ?? "").split(",").filter(Boolean).map(Number);
  if (seeds.some((seed) => !Number.isInteger(seed) || seed < 0))
    throw new Error(`CHAOS_SEED must be non-negative integers, comma-separated; got ${env.CHAOS_SEED}`);
  return seeds.length > 0 ? { ...profile, seeds } : profile;
}
