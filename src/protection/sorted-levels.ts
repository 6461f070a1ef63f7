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

export class SortedLevels<T> {
  private readonly levels: Money[] = [];
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  add(level: Money, item: T): void {
    const at = this.firstAtOrAbove(level);
    this.levels.splice(at, 0, level);
    this.items.splice(at, 0, item);
  }

  /** Removes `item` at `level` (the level it was added at); false when it is not there. */
  remove(level: Money, item: T): boolean {
    for (let i = this.firstAtOrAbove(level); i < this.items.length && this.levels[i]!.equals(level); i++) {
      if (this.items[i] === item) {
        this.levels.splice(i, 1);
        this.items.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  /** Calls `visit` for every item whose level is ≥ `price` (a falling price reaches them). */
  forEachAtOrAbove(price: Money, visit: (item: T) => void): void {
    for (let i = this.firstAtOrAbove(price); i < this.items.length; i++) visit(this.items[i]!);
  }

  /** Calls `visit` for every item whose level is ≤ `price` (a rising price reaches them). */
  forEachAtOrBelow(price: Money, visit: (item: T) => void): void {
    const end = this.firstAbove(price);
    for (let i = 0; i < end; i++) visit(this.items[i]!);
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
