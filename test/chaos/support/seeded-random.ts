/**
 * A small seeded PRNG (mulberry32) so that every chaos run can be repeated
 * from its seed: which client calls which tracker on which server, in which
 * order, and which trackers a fault is aimed at. Never Math.random here.
 */
import { seededRandom } from "../../../src/router/seeded-random.js";

export class SeededRandom {
  /** Uniform in [0, 1): the same generator the paper router draws its faults from. */
  readonly next: () => number;

  constructor(readonly seed: number) {
    this.next = seededRandom(seed);
  }

  /** An integer in [0, below). */
  below(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[this.below(items.length)]!;
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffled<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  }

  /** A seed for something else derived from this one (a client process, a server's fault draws). */
  derive(label: string): number {
    let hash = this.seed >>> 0;
    for (let i = 0; i < label.length; i++) hash = Math.imul(hash ^ label.charCodeAt(i), 0x01000193) >>> 0;
    return hash;
  }
}
