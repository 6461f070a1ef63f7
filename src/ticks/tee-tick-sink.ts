/**
 * Hands every batch of ticks to several sinks in order: the memory cache
 * first (the exit path reads it synchronously), then the Redis write-behind.
 * A sink that throws does not keep the others from their ticks.
 */
import type { ExitLog } from "../exit/ports.js";
import type { TickRecord, TickSink } from "./tick.js";

export class TeeTickSink implements TickSink {
  constructor(
    private readonly sinks: readonly TickSink[],
    private readonly log?: ExitLog,
  ) {}

  write(ticks: readonly TickRecord[]): void {
    for (const sink of this.sinks) {
      try {
        sink.write(ticks);
      } catch (error) {
        this.log?.warn({ err: error }, "a tick sink failed; the others still received the ticks");
      }
    }
  }
}
