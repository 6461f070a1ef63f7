/** A Clock whose time moves only when told, or when something sleeps on it (the sleep returns at once, time advanced). */
import type { Clock } from "../../src/exit/ports.js";

export class ManualClock implements Clock {
  readonly sleeps: number[] = [];

  constructor(public timeMs = 1_760_000_000_000) {}

  now(): number {
    return this.timeMs;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.timeMs += ms;
  }

  advance(ms: number): void {
    this.timeMs += ms;
  }
}
