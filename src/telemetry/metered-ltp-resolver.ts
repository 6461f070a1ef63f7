/**
 * An LtpResolver that counts look-ups by the source that answered and by
 * staleness; otherwise it is the resolver it wraps.
 */
import type { InstrumentKey, LtpQuote, LtpResolver } from "../exit/ports.js";
import type { TradingCoreMetrics } from "./trading-core-metrics.js";

export class MeteredLtpResolver implements LtpResolver {
  constructor(
    private readonly resolver: LtpResolver,
    private readonly metrics: TradingCoreMetrics,
  ) {}

  async resolve(instrument: InstrumentKey): Promise<LtpQuote> {
    const quote = await this.resolver.resolve(instrument);
    this.metrics.ltpLookedUp(quote.source, quote.stale);
    return quote;
  }
}
