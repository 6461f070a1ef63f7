/**
 * TickService handlers: ticks in (PublishTicks), last traded prices out
 * through the same LTP chain the exit engine uses. Requests reach them only
 * through request-guard.ts (routes.ts), so every field is already within its
 * input bound and valid UTF-8.
 */
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { PublishTicksResponseSchema, TickService } from "../../../gen/tradingcore/v1/tick_pb.js";
import type { GetLtpResponse, GetLtpsResponse, Ltp, StreamLtpResponse, Tick } from "../../../gen/tradingcore/v1/tick_pb.js";
import { TradingCoreError } from "../../domain/trading-core-error.js";
import type { InstrumentKey } from "../../exit/ports.js";
import type { MemoryTickCache } from "../../ticks/memory-tick-cache.js";
import type { TickRecord } from "../../ticks/tick.js";
import { invalid, parseInstrument, parsePositiveDecimal, parseTimestamp } from "./request-parsing.js";
import type { TradingCoreServices } from "./services.js";
import { ltpToWire } from "../wire/tick-wire.js";

export function tickServiceHandlers(services: TradingCoreServices): ServiceImpl<typeof TickService> {
  const { ticks, clock } = services;
  return {
    async publishTicks(requests) {
      let accepted = 0n;
      let rejected = 0n;
      let firstError = "";
      for await (const request of requests) {
        // A tick without a time gets its message's arrival time: one clock read per message, not per tick.
        const nowMs = clock.now();
        const batch: TickRecord[] = [];
        // With room for every tick of the message to be a new instrument, none needs looking up here.
        const fresh = ticks.cache.room >= request.ticks.length ? undefined : new InstrumentsNew(ticks.cache);
        let batchRejected = 0;
        for (let index = 0; index < request.ticks.length; index++) {
          try {
            const tick = parseTick(request.ticks[index]!, nowMs);
            batch.push(fresh ? fresh.admit(tick) : tick);
          } catch (error) {
            batchRejected++;
            if (!firstError) firstError = `ticks[${index}]: ${error instanceof Error ? error.message : String(error)}`;
          }
        }
        accepted += BigInt(batch.length);
        rejected += BigInt(batchRejected);
        if (batch.length > 0) ticks.sink.write(batch);
      }
      return create(PublishTicksResponseSchema, { accepted, rejected, firstError });
    },

    async getLtp(request) {
      const instrument = parseInstrument(request.instrument);
      const response: GetLtpResponse = {
        $typeName: "tradingcore.v1.GetLtpResponse",
        ltp: ltpToWire(instrument, await ticks.resolver.resolve(instrument)),
      };
      return response;
    },

    async getLtps(request) {
      const instruments = parseInstruments(request.instruments);
      const quotes = await Promise.all(instruments.map((instrument) => ticks.resolver.resolve(instrument)));
      const response: GetLtpsResponse = {
        $typeName: "tradingcore.v1.GetLtpsResponse",
        ltps: quotes.map((quote, index) => ltpToWire(instruments[index]!, quote)),
      };
      return response;
    },

    async *streamLtp(request, context) {
      const instruments = parseInstruments(request.instruments);
      const pending = new Map<number, InstrumentKey>();
      let wake: (() => void) | undefined;
      // One abort listener for the whole stream, not one per idle wait (they would pile up on the signal).
      const onAbort = () => wake?.();
      context.signal.addEventListener("abort", onAbort, { once: true });
      const unsubscribes = instruments.map((instrument, index) =>
        ticks.cache.subscribe(instrument, {
          onTick: () => {
            // Coalesce per instrument: a slow reader gets the newest price, never a growing queue.
            pending.set(index, instrument);
            wake?.();
          },
        }),
      );
      try {
        for (const instrument of instruments) {
          yield streamLtpResponse(ltpToWire(instrument, await ticks.resolver.resolve(instrument)));
        }
        while (!context.signal.aborted) {
          if (pending.size === 0) {
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
            continue;
          }
          const updates = [...pending.values()];
          pending.clear();
          for (const instrument of updates) {
            yield streamLtpResponse(ltpToWire(instrument, await ticks.resolver.resolve(instrument)));
          }
        }
      } finally {
        context.signal.removeEventListener("abort", onAbort);
        for (const unsubscribe of unsubscribes) unsubscribe();
      }
    },
  };
}

/**
 * The tick cache's instrument bound, applied to one batch before it is written: a tick of an
 * instrument the cache does not hold yet is refused once the batch's new instruments fill its room.
 */
class InstrumentsNew {
  private readonly room: number;
  private readonly seen = new Set<string>();

  constructor(private readonly cache: MemoryTickCache) {
    this.room = cache.room;
  }

  admit(tick: TickRecord): TickRecord {
    if (this.cache.peek(tick) !== undefined) return tick;
    const key = `${tick.segment}:${tick.securityId}`;
    if (this.seen.has(key)) return tick;
    if (this.seen.size >= this.room) {
      throw new TradingCoreError(
        "resource-exhausted",
        `the tick cache holds its most instruments (${this.cache.maxInstruments}, --max-tick-instruments); ticks of new instruments are refused`,
      );
    }
    this.seen.add(key);
    return tick;
  }
}

function parseInstruments(instruments: Parameters<typeof parseInstrument>[0][]): InstrumentKey[] {
  if (instruments.length === 0) throw invalid("instruments must not be empty");
  return instruments.map((instrument, index) => parseInstrument(instrument, `instruments[${index}]`));
}

function parseTick(tick: Tick, nowMs: number): TickRecord {
  const instrument = parseInstrument(tick.instrument);
  const ltp = parsePositiveDecimal(tick.ltp, "ltp");
  const timeMs = parseTimestamp(tick.time, "time") ?? nowMs;
  // Number() of the wire text costs a fraction of decimal.js's toNumber(); the protection book compares with it.
  return { segment: instrument.segment, securityId: instrument.securityId, ltp, timeMs, ltpApprox: Number(tick.ltp) };
}

function streamLtpResponse(ltp: Ltp): StreamLtpResponse {
  return { $typeName: "tradingcore.v1.StreamLtpResponse", ltp };
}
