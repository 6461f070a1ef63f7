/**
 * The LTP chain (seed improvement 1): ask each tick source in order (memory,
 * then Redis when configured) and take the first price found. Each hop is
 * bounded in time; a hop that throws or hangs degrades to the next, and the
 * end of the chain is source NONE. Never throws.
 */
import { PriceSource } from "../../gen/tradingcore/v1/common_pb.js";
import { withDeadline } from "../domain/deadline.js";
import type { ExitLog, InstrumentKey, LtpQuote, LtpResolver } from "../exit/ports.js";
import type { TickSource } from "./tick.js";

export interface FallbackLtpResolverSettings {
  /** Longest wait for one hop, ms, unless `hopTimeoutsMs` names its source. */
  readonly hopTimeoutMs: number;
  /** Longest wait per source (MEMORY, REDIS), ms. */
  readonly hopTimeoutsMs?: Partial<Record<PriceSource, number>>;
  /** Told the source of every hop that failed or missed its budget (metrics). */
  readonly onHopMiss?: (source: PriceSource) => void;
  /** A price older than this is flagged `stale`, ms. */
  readonly staleAfterMs: number;
}

const NOT_FOUND: LtpQuote = { found: false, source: PriceSource.NONE, ageMs: 0, stale: false };

export class FallbackLtpResolver implements LtpResolver {
  constructor(
    private readonly hops: readonly TickSource[],
    private readonly settings: FallbackLtpResolverSettings,
    private readonly now: () => number,
    private readonly log?: ExitLog,
  ) {}

  async resolve(instrument: InstrumentKey): Promise<LtpQuote> {
    for (const hop of this.hops) {
      try {
        // A memory hop answers synchronously: no timer, no AbortController on the hot path.
        const tick = hop.peek
          ? hop.peek(instrument)
          : await withDeadline(
              this.settings.hopTimeoutsMs?.[hop.source] ?? this.settings.hopTimeoutMs,
              `LTP hop ${PriceSource[hop.source]}`,
              () => hop.latest(instrument),
            );
        if (!tick) continue;
        const ageMs = Math.max(0, this.now() - tick.timeMs);
        return {
          found: true,
          price: tick.ltp,
          tickTimeMs: tick.timeMs,
          source: hop.source,
          ageMs,
          stale: ageMs > this.settings.staleAfterMs,
        };
      } catch (error) {
        this.settings.onHopMiss?.(hop.source);
        this.log?.warn({ hop: PriceSource[hop.source], err: error }, "LTP hop failed; trying the next");
      }
    }
    return NOT_FOUND;
  }
}
