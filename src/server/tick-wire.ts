import { create } from "@bufbuild/protobuf";
import { InstrumentSchema } from "../../gen/tradingcore/v1/common_pb.js";
import { type Ltp, LtpSchema } from "../../gen/tradingcore/v1/tick_pb.js";
import { formatDecimal } from "../domain/money.js";
import type { InstrumentKey, LtpQuote } from "../exit/ports.js";
import { durationOf, timestampOf } from "./time-wire.js";

export function ltpToWire(instrument: InstrumentKey, quote: LtpQuote): Ltp {
  return create(LtpSchema, {
    instrument: create(InstrumentSchema, instrument),
    found: quote.found,
    price: formatDecimal(quote.price),
    tickTime: timestampOf(quote.tickTimeMs),
    source: quote.source,
    age: quote.found ? durationOf(quote.ageMs) : undefined,
    stale: quote.stale,
  });
}
