import type { Ltp } from "../../../gen/tradingcore/v1/tick_pb.js";
import { formatDecimal } from "../../domain/money.js";
import type { InstrumentKey, LtpQuote } from "../../exit/ports.js";
import { durationOf, timestampOf } from "./time-wire.js";

/**
 * The Ltp message of a quote, as a literal typed as the message (the
 * compiler holds it to every field) rather than with create(), which walks
 * the schema on every call: GetLtp answers with it at the rate of a no-op.
 */
export function ltpToWire(instrument: InstrumentKey, quote: LtpQuote): Ltp {
  return {
    $typeName: "tradingcore.v1.Ltp",
    instrument: { $typeName: "tradingcore.v1.Instrument", segment: instrument.segment, securityId: instrument.securityId },
    found: quote.found,
    price: formatDecimal(quote.price),
    tickTime: timestampOf(quote.tickTimeMs),
    source: quote.source,
    age: quote.found ? durationOf(quote.ageMs) : undefined,
    stale: quote.stale,
  };
}
