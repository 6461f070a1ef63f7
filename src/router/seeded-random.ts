/**
 * A small seeded pseudo-random source (mulberry32): the same seed gives the
 * same sequence of draws in every run and process, so a fault-injection run
 * of the paper router can be repeated exactly. Not for anything secret.
 */

/** Uniform draws in [0, 1) from a 32-bit seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
