/**
 * The Redis hop of the tick cache, shared by every tradingcore process: ticks
 * live in `tick:{SEGMENT}:{SECURITY_ID}` hashes with fields `ltp` (decimal
 * string) and `ts` (epoch ms).
 *
 * Guarantees:
 * - `write` never waits on Redis and never throws: ticks are kept (newest per
 *   instrument) and written behind in batches; a failed batch is counted and
 *   logged, not retried (the next tick of the instrument supersedes it).
 * - A stored tick is only replaced by one that is not older (Lua, atomic).
 * - `latest` reads one hash; a Redis failure rejects with TradingCoreError
 *   `unavailable`, which the LTP chain turns into its next hop (NONE).
 */
import { PriceSource, Segment } from "../../gen/tradingcore/v1/common_pb.js";
import { formatDecimal, parseDecimal } from "../domain/money.js";
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { ExitLog, InstrumentKey } from "../exit/ports.js";
import type { RedisTickClient } from "./redis-tick-client.js";
import { instrumentKey, type TickRecord, type TickSink, type TickSource } from "./tick.js";

export interface RedisTickCacheSettings {
  /** Pause between a tick's arrival and the batch that writes it, ms; ticks arriving meanwhile join the batch. */
  readonly flushDelayMs: number;
  /** Tick hashes expire this long after their last write, ms (0 = never). */
  readonly keyTtlMs: number;
}

export const DEFAULT_REDIS_TICK_CACHE_SETTINGS: RedisTickCacheSettings = { flushDelayMs: 2, keyTtlMs: 24 * 60 * 60 * 1000 };

export class RedisTickCache implements TickSource, TickSink {
  readonly source = PriceSource.REDIS;
  private readonly settings: RedisTickCacheSettings;
  private pending = new Map<string, TickRecord>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private lastWarnedMs = 0;
  /** Ticks written to Redis, and ticks whose write failed; for metrics and tests. */
  readonly counts = { written: 0, failed: 0 };

  constructor(
    private readonly client: RedisTickClient,
    settings: Partial<RedisTickCacheSettings> = {},
    private readonly log?: ExitLog,
  ) {
    this.settings = { ...DEFAULT_REDIS_TICK_CACHE_SETTINGS, ...settings };
  }

  write(ticks: readonly TickRecord[]): void {
    for (const tick of ticks) {
      const key = tickKey(tick);
      const queued = this.pending.get(key);
      if (!queued || queued.timeMs <= tick.timeMs) this.pending.set(key, tick);
    }
    this.schedule();
  }

  async latest(instrument: InstrumentKey): Promise<TickRecord | undefined> {
    let fields: Array<string | null>;
    try {
      fields = (await this.client.hmGet(tickKey(instrument), ["ltp", "ts"])) as Array<string | null>;
    } catch (error) {
      throw new TradingCoreError("unavailable", `Redis tick cache: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const [ltpText, tsText] = fields;
    if (ltpText == null || tsText == null) return undefined;
    const ltp = parseDecimal(String(ltpText));
    const timeMs = Number(tsText);
    if (!ltp || !Number.isSafeInteger(timeMs)) return undefined;
    return { segment: instrument.segment, securityId: instrument.securityId, ltp, timeMs };
  }

  /** Resolves once every tick written so far has been sent (or failed); for shutdown and tests. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing || this.pending.size > 0) {
      if (this.flushing) await this.flushing;
      else await this.writeBatch();
    }
  }

  private schedule(): void {
    if (this.timer || this.flushing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.writeBatch();
    }, this.settings.flushDelayMs);
    this.timer.unref();
  }

  private writeBatch(): Promise<void> {
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.flushing = Promise.all(batch.map((tick) => this.writeOne(tick))).then(() => {
      this.flushing = undefined;
      if (this.pending.size > 0) this.schedule();
    });
    return this.flushing;
  }

  private async writeOne(tick: TickRecord): Promise<void> {
    try {
      await this.client.tickWrite(tickKey(tick), formatDecimal(tick.ltp), tick.timeMs, this.settings.keyTtlMs);
      this.counts.written++;
    } catch (error) {
      this.counts.failed++;
      const now = Date.now();
      if (now - this.lastWarnedMs > 5_000) {
        this.lastWarnedMs = now;
        this.log?.warn({ err: error, failed: this.counts.failed }, "Redis tick write-behind failed; the memory cache still has the tick");
      }
    }
  }
}

/** `tick:{SEGMENT}:{SECURITY_ID}`. */
export function tickKey(instrument: InstrumentKey): string {
  return `tick:${instrumentKey(Segment[instrument.segment] ?? String(instrument.segment), instrument.securityId)}`;
}
