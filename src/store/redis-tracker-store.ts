/**
 * The tracker store on Redis, for several tradingcore processes sharing
 * trackers. The same contract as the memory store (one contract suite runs
 * against both).
 *
 * Layout (prefix P, "tc:" by default):
 * - `P tracker:{order_no}`: hash, one field per TrackerRecord field (redis-tracker-codec.ts)
 * - `P trackers`, `P trackers:status:{STATUS}`, `P trackers:segment:{SEGMENT}`,
 *   `P trackers:paper:{0|1}`: sorted sets of order_nos (score 0, ordered by
 *   order_no) for listing
 * - `P correlation-ids`: hash from exit correlation id to order_no
 * - `P protection-changes`: stream, the protection change log
 *   (protection-change-log.ts), capped at about `changeLogMaxLength` entries;
 *   `P protection-changes:seq`, its entry counter
 *
 * Invariants: every write is one Lua script, so a tracker and its indexes
 * change together or not at all; compare-and-set refuses an older fencing
 * token, a stale version and any status change that is not an edge of the
 * domain's transition table. Needs a standalone Redis, or the master Sentinel
 * names (the CAS script derives index keys from the prefix: no cluster); run
 * it with appendonly for durability, and with replicas that confirm its
 * writes (redis-write-confirmation.ts) to survive a failover.
 * Redis failures surface as TradingCoreError `unavailable` (or `timeout`).
 */
import { Segment, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { ZERO } from "../domain/money.js";
import { sameSpec, type TrackerRecord, type TrackerSpec } from "../domain/tracker.js";
import { assertLegalTransition } from "../domain/tracker-transitions.js";
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { CompareAndSetOutcome, TrackerPage, TrackerQuery, TrackerStore } from "../exit/ports.js";
import { redisCommand } from "./redis-command.js";
import type { RedisTrackerClient } from "./redis-tracker-client.js";
import { protectionChangeLogKeys } from "./redis-protection-change-log.js";
import { decodeTracker, encodeTracker, hashFromFlat } from "./redis-tracker-codec.js";
import { matchesQuery, newTrackerFromSpec } from "./tracker-query.js";

export interface RedisTrackerStoreSettings {
  /** Prefix of every key, so several deployments (or tests) can share one Redis. */
  readonly keyPrefix: string;
  /** Longest wait for one store operation, ms; past it the operation's outcome is unknown. */
  readonly commandTimeoutMs: number;
  /** Order numbers read per round trip while listing. */
  readonly listBatch: number;
  /** Entries the protection change log keeps, about (MAXLEN ~): a reader further behind re-reads every tracker. */
  readonly changeLogMaxLength: number;
}

export const DEFAULT_REDIS_TRACKER_STORE_SETTINGS: RedisTrackerStoreSettings = {
  keyPrefix: "tc:",
  commandTimeoutMs: 2_000,
  listBatch: 200,
  changeLogMaxLength: 100_000,
};

export class RedisTrackerStore implements TrackerStore {
  private readonly settings: RedisTrackerStoreSettings;

  constructor(
    private readonly client: RedisTrackerClient,
    settings: Partial<RedisTrackerStoreSettings> = {},
  ) {
    this.settings = { ...DEFAULT_REDIS_TRACKER_STORE_SETTINGS, ...settings };
  }

  async register(spec: TrackerSpec, nowMs: number): Promise<{ tracker: TrackerRecord; created: boolean }> {
    const tracker = newTrackerFromSpec(spec, nowMs);
    const keys = [
      this.trackerKey(spec.orderNo),
      this.key("trackers"),
      this.statusIndex(tracker.status),
      this.key(`trackers:segment:${Segment[tracker.segment]}`),
      this.key(`trackers:paper:${tracker.paper ? 1 : 0}`),
      ...this.changeLogKeys(),
    ];
    const args = [spec.orderNo, String(this.settings.changeLogMaxLength)];
    const reply = await this.call("register", () => this.client.trackerRegister(keys, args, encodeTracker(tracker)));
    if (reply[0] === "created") return { tracker, created: true };
    const existing = decodeTracker(hashFromFlat(reply.slice(1)));
    if (!sameSpec(existing, spec)) {
      throw new TradingCoreError("conflict", `order_no ${spec.orderNo} is already registered with different fields`);
    }
    return { tracker: existing, created: false };
  }

  async get(orderNo: string): Promise<TrackerRecord | undefined> {
    const hash = await this.call("get", () => this.client.hGetAll(this.trackerKey(orderNo)));
    return Object.keys(hash).length === 0 ? undefined : decodeTracker(hash);
  }

  async compareAndSet(next: TrackerRecord, expectedVersion: number): Promise<CompareAndSetOutcome> {
    const written: TrackerRecord = { ...next, version: expectedVersion + 1 };
    const quantityOk = !next.exitedQuantity.greaterThan(next.quantity) && !next.exitedQuantity.lessThan(ZERO);
    const args = [
      next.orderNo,
      String(expectedVersion),
      String(next.fencingToken),
      TrackerStatus[next.status],
      this.key("trackers:status:"),
      quantityOk ? "1" : "0",
      next.exitCorrelationId,
      String(this.settings.changeLogMaxLength),
    ];
    const keys = [this.trackerKey(next.orderNo), this.key("correlation-ids"), ...this.changeLogKeys()] as const;
    const reply = await this.call("compare-and-set", () => this.client.trackerCompareAndSet(keys, args, encodeTracker(written)));
    switch (reply[0]) {
      case "written":
        return { kind: "written", tracker: written };
      case "not-found":
        return { kind: "not-found" };
      case "fenced":
      case "version-mismatch":
        return { kind: reply[0], current: decodeTracker(hashFromFlat(reply.slice(1))) };
      case "illegal-transition": {
        const from = TrackerStatus[reply[1] as keyof typeof TrackerStatus];
        assertLegalTransition(next.orderNo, from, next.status);
        throw new TradingCoreError("internal", `tracker ${next.orderNo}: the store refused a transition the domain allows`);
      }
      case "invalid-quantity":
        throw new TradingCoreError("invalid-argument", `tracker ${next.orderNo}: exited_quantity outside 0..quantity`);
      default:
        throw new TradingCoreError("internal", `tracker store: unexpected script reply ${String(reply[0])}`);
    }
  }

  async list(query: TrackerQuery, page: { after?: string; limit: number }): Promise<TrackerPage> {
    const index = this.indexFor(query);
    const trackers: TrackerRecord[] = [];
    let from = page.after === undefined ? "-" : `(${page.after}`;
    for (;;) {
      const orderNos = await this.call("list", () =>
        this.client.zRangeByLex(index, from, "+", { LIMIT: { offset: 0, count: this.settings.listBatch } }),
      );
      if (orderNos.length === 0) return { trackers };
      const loaded = await Promise.all(orderNos.map((orderNo) => this.get(orderNo)));
      for (const tracker of loaded) {
        if (!tracker || !matchesQuery(tracker, query)) continue;
        if (trackers.length === page.limit) return { trackers, nextCursor: trackers[trackers.length - 1]!.orderNo };
        trackers.push(tracker);
      }
      from = `(${orderNos[orderNos.length - 1]}`;
    }
  }

  async findByCorrelationId(correlationId: string): Promise<TrackerRecord | undefined> {
    if (correlationId === "") return undefined;
    const orderNo = await this.call("find by correlation id", () => this.client.hGet(this.key("correlation-ids"), correlationId));
    if (orderNo === null || orderNo === undefined) return undefined;
    return this.get(String(orderNo));
  }

  /** The most selective index the query names; the rest of the query is checked on each tracker. */
  private indexFor(query: TrackerQuery): string {
    if (query.status !== undefined) return this.statusIndex(query.status);
    if (query.segment !== undefined) return this.key(`trackers:segment:${Segment[query.segment]}`);
    if (query.paper !== undefined) return this.key(`trackers:paper:${query.paper ? 1 : 0}`);
    return this.key("trackers");
  }

  /** The change log's stream and its counter (redis-protection-change-log.ts reads them). */
  private changeLogKeys(): [string, string] {
    return protectionChangeLogKeys(this.settings.keyPrefix);
  }

  private statusIndex(status: TrackerStatus): string {
    return this.key(`trackers:status:${TrackerStatus[status]}`);
  }

  private trackerKey(orderNo: string): string {
    return this.key(`tracker:${orderNo}`);
  }

  private key(suffix: string): string {
    return `${this.settings.keyPrefix}${suffix}`;
  }

  /** Runs one Redis operation within the command timeout; Redis errors become TradingCoreError `unavailable`. */
  private call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    return redisCommand(`tracker store ${what}`, this.settings.commandTimeoutMs, operation);
  }
}
