/**
 * Fixed trigger levels of one instrument, kept sorted so that a tick finds
 * the levels it reaches by binary search: O(log n + k) for k reached.
 *
 * A plain sorted array rather than a tree or skip list package: levels are
 * inserted and removed once per plan (rare), looked up on every tick (hot),
 * and an instrument holds tens to hundreds of them, where an array's
 * O(n) insert is a memmove of a few hundred pointers and its lookups touch
 * contiguous memory. Comparisons are decimal; nothing is rounded.
 */
import type { Money } from "../domain/money.js";

/** A billionth of the price: far wider than a double's error on a decimal of the contract. */
const MARGIN = 1e-9;

export class SortedLevels<T> {
  private readonly levels: Money[] = [];
  private readonly items: T[] = [];
  /** The lowest and highest level as doubles: most ticks reach none, and are told so without decimal work. */
  private lowest = Number.POSITIVE_INFINITY;
  private highest = Number.NEGATIVE_INFINITY;

  get size(): number {
    return this.items.length;
  }

  /** The lowest level as a double; +∞ when empty. */
  get lowestApprox(): number {
    return this.lowest;
  }

  /** The highest level as a double; −∞ when empty. */
  get highestApprox(): number {
    return this.highest;
  }

  add(level: Money, item: T): void {
    const at = this.firstAtOrAbove(level);
    this.levels.splice(at, 0, level);
    this.items.splice(at, 0, item);
    this.bounds();
  }

  /** Removes `item` at `level` (the level it was added at); false when it is not there. */
  remove(level: Money, item: T): boolean {
    for (let i = this.firstAtOrAbove(level); i < this.items.length && this.levels[i]!.equals(level); i++) {
      if (this.items[i] === item) {
        this.levels.splice(i, 1);
        this.items.splice(i, 1);
        this.bounds();
        return true;
      }
    }
    return false;
  }

  /** The item at `index` (0 ≤ index < size), in level order. */
  itemAt(index: number): T {
    return this.items[index]!;
  }

  /**
   * Index of the first item whose level is ≥ `price`: the items from it to the end are those a falling price reaches
   * (none when it is `size`). `approximate` is `price` as a double, when the caller has it: a price clearly above every
   * level is told so without decimal work. An index, not a callback, so that a tick allocates nothing here.
   */
  firstReachedFalling(price: Money, approximate?: number): number {
    if (approximate !== undefined && approximate - MARGIN * Math.abs(approximate) > this.highest) return this.items.length;
    return this.firstAtOrAbove(price);
  }

  /** How many items have a level ≤ `price`: the first that many are those a rising price reaches; `approximate` as above. */
  reachedRising(price: Money, approximate?: number): number {
    if (approximate !== undefined && approximate + MARGIN * Math.abs(approximate) < this.lowest) return 0;
    return this.firstAbove(price);
  }

  private bounds(): void {
    this.lowest = this.levels.length === 0 ? Number.POSITIVE_INFINITY : this.levels[0]!.toNumber();
    this.highest = this.levels.length === 0 ? Number.NEGATIVE_INFINITY : this.levels[this.levels.length - 1]!.toNumber();
  }

  /** Index of the first level ≥ `price`. */
  private firstAtOrAbove(price: Money): number {
    let low = 0;
    let high = this.levels.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.levels[mid]!.lessThan(price)) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Index of the first level > `price`. */
  private firstAbove(price: Money): number {
    let low = 0;
    let high = this.levels.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.levels[mid]!.lessThanOrEqualTo(price)) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
