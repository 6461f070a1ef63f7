/**
 * The Redis hop of the tick cache, shared by every tradingcore process: ticks
 * live in `{prefix}tick:{SEGMENT}:{SECURITY_ID}` hashes with fields `ltp` (decimal
 * string) and `ts` (epoch ms).
 *
 * Guarantees:
 * - `write` never waits on Redis and never throws: ticks are kept (newest per
 *   instrument) and written behind in batches, one script call per up to
 *   MAX_TICKS_PER_CALL ticks; a failed call is counted (per tick) and logged,
 *   not retried (the next tick of the instrument supersedes it).
 * - A stored tick is only replaced by one that is not older (Lua, atomic per call).
 * - `latest` reads one hash; a Redis failure rejects with TradingCoreError
 *   `unavailable`, which the LTP chain turns into its next hop (NONE).
 */
import { PriceSource, Segment } from "../../gen/tradingcore/v1/common_pb.js";
import { formatDecimal, parseDecimal } from "../domain/money.js";
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { ExitLog, InstrumentKey } from "../exit/ports.js";
import type { RedisTickClient } from "./redis-tick-client.js";
import type { TickWrite } from "./redis-tick-scripts.js";
import { instrumentKey, type TickRecord, type TickSink, type TickSource } from "./tick.js";

export interface RedisTickCacheSettings {
  /** Pause between a tick's arrival and the batch that writes it, ms; ticks arriving meanwhile join the batch. */
  readonly flushDelayMs: number;
  /** Tick hashes expire this long after their last write, ms (0 = never). */
  readonly keyTtlMs: number;
  /** Put before every tick hash's key (the deployment's key prefix). */
  readonly keyPrefix: string;
}

/**
 * Ticks per script call: bounds how long one call holds Redis (a script runs
 * alone), at about 3 commands per tick.
 */
const MAX_TICKS_PER_CALL = 500;

export const DEFAULT_REDIS_TICK_CACHE_SETTINGS: RedisTickCacheSettings = { flushDelayMs: 2, keyTtlMs: 24 * 60 * 60 * 1000, keyPrefix: "" };

export class RedisTickCache implements TickSource, TickSink {
  readonly source = PriceSource.REDIS;
  private readonly settings: RedisTickCacheSettings;
  /** Newest tick not yet sent, by segment then security id (no key string built per tick, only per write). */
  private pending = new Map<number, Map<string, TickRecord>>();
  private pendingCount = 0;
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
      let segment = this.pending.get(tick.segment);
      if (!segment) this.pending.set(tick.segment, (segment = new Map()));
      const queued = segment.get(tick.securityId);
      if (!queued) this.pendingCount++;
      if (!queued || queued.timeMs <= tick.timeMs) segment.set(tick.securityId, tick);
    }
    this.schedule();
  }

  async latest(instrument: InstrumentKey): Promise<TickRecord | undefined> {
    let fields: Array<string | null>;
    try {
      fields = (await this.client.hmGet(this.settings.keyPrefix + tickKey(instrument), ["ltp", "ts"])) as Array<string | null>;
    } catch (error) {
      throw new TradingCoreError("unavailable", `Redis tick cache: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
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
    while (this.flushing || this.pendingCount > 0) {
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

  /** Sends what is pending as script calls of at most MAX_TICKS_PER_CALL ticks each (all in flight at once, pipelined). */
  private writeBatch(): Promise<void> {
    const batch: TickWrite[] = [];
    for (const segment of this.pending.values()) {
      for (const tick of segment.values())
        batch.push({ key: this.settings.keyPrefix + tickKey(tick), ltp: formatDecimal(tick.ltp), timeMs: tick.timeMs });
    }
    this.pending = new Map();
    this.pendingCount = 0;
    const calls: Promise<void>[] = [];
    for (let start = 0; start < batch.length; start += MAX_TICKS_PER_CALL)
      calls.push(this.writeMany(batch.slice(start, start + MAX_TICKS_PER_CALL)));
    this.flushing = Promise.all(calls).then(() => {
      this.flushing = undefined;
      if (this.pendingCount > 0) this.schedule();
    });
    return this.flushing;
  }

  private async writeMany(ticks: readonly TickWrite[]): Promise<void> {
    try {
      await this.client.tickWriteMany(ticks, this.settings.keyTtlMs);
      this.counts.written += ticks.length;
    } catch (error) {
      this.counts.failed += ticks.length;
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
