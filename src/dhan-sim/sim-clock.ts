/** The simulator's time: the wall clock, or a manual one a test moves. */
export interface SimClock {
  /** Epoch ms. */
  now(): number;
}

export const wallClock: SimClock = { now: () => Date.now() };

/** Time that moves only when told to: order lifecycles, pings and idle drops follow it exactly. */
export class ManualSimClock implements SimClock {
  constructor(private nowMs = Date.UTC(2026, 11, 2, 4, 0, 0)) {}

  now(): number {
    return this.nowMs;
  }

  advance(ms: number): void {
    this.nowMs += ms;
  }
}
