/**
 * What the exit engine needs from the outside world. Each port has an
 * in-memory adapter (the embedded default, also used by tests) and may have
 * real ones (Redis, Dhan HTTP); the engine never knows which.
 */
import type { BrokerOrderStatus, ExitEventKind } from "../../gen/tradingcore/v1/exit_pb.js";
import type { ExitStatus, PriceSource, ProductType, Segment, Side, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { ExitTrigger, ProtectionState } from "../domain/exit-plan.js";
import type { Money } from "../domain/money.js";
import type { TrackerRecord, TrackerSpec } from "../domain/tracker.js";
import type { OrderUpdate } from "./order-update-change.js";

// ── Tracker store ────────────────────────────────────────────────────────────

export type CompareAndSetOutcome =
  | { readonly kind: "written"; readonly tracker: TrackerRecord }
  /** Someone wrote since `expectedVersion` was read; `current` is what is stored now. */
  | { readonly kind: "version-mismatch"; readonly current: TrackerRecord }
  /** The stored fencing token is newer than the writer's: a newer lock holder exists. */
  | { readonly kind: "fenced"; readonly current: TrackerRecord }
  | { readonly kind: "not-found" };

export interface TrackerQuery {
  readonly status?: TrackerStatus;
  readonly segment?: Segment;
  readonly paper?: boolean;
}

export interface TrackerPage {
  readonly trackers: TrackerRecord[];
  /** Pass back as `after` for the next page; absent on the last page. */
  readonly nextCursor?: string;
}

export interface TrackerStore {
  /**
   * Inserts a new tracker (version 1). Registering the same spec again returns
   * the stored tracker with `created: false`; a different spec under the same
   * order_no throws `conflict` and changes nothing.
   */
  register(spec: TrackerSpec, nowMs: number): Promise<{ tracker: TrackerRecord; created: boolean }>;
  get(orderNo: string): Promise<TrackerRecord | undefined>;
  /**
   * Writes `next` (its version becomes expectedVersion + 1) only if the stored
   * version is still `expectedVersion`, `next.fencingToken` is not older than
   * the stored one, and the status change is an edge of the transition table
   * (else throws `illegal-transition`). Atomic: all or nothing.
   */
  compareAndSet(next: TrackerRecord, expectedVersion: number): Promise<CompareAndSetOutcome>;
  /** Trackers matching the query in order_no order, `limit` at most, after the cursor. */
  list(query: TrackerQuery, page: { after?: string; limit: number }): Promise<TrackerPage>;
  /**
   * The tracker one of whose exit attempts, the current one or an earlier one,
   * had this correlation id (its `exitCorrelationId` tells which).
   */
  findByCorrelationId(correlationId: string): Promise<TrackerRecord | undefined>;
}

/**
 * Where each tracker's protection state (trail, peak, last tick) is kept,
 * apart from the versioned tracker: it moves with ticks, many times a
 * second, and must never make an exit's compare-and-set fail. Every write
 * is monotonic (protection-state-merge.ts) and atomic.
 */
/** One state to merge into the stored one (ProtectionStates.advanceMany). */
export interface ProtectionAdvance {
  readonly orderNo: string;
  readonly side: Side;
  readonly state: ProtectionState;
  /**
   * A state this store answered for the tracker, from which `state` moved forward (by ticks and
   * forward merges only). While it is still the very state stored (no other writer since), the store
   * may take `state` as it is instead of merging; a store that cannot tell identity ignores it.
   */
  readonly basis?: ProtectionState | undefined;
}

export interface ProtectionStates {
  /** The stored state of each tracker named that has one. */
  get(orderNos: readonly string[]): Promise<Map<string, ProtectionState>>;
  /** Merges `state` into the stored one (forward only); answers what is stored after. */
  advance(orderNo: string, side: Side, state: ProtectionState): Promise<ProtectionState>;
  /**
   * `advance` for each entry, in one call (a flush writes thousands): answers what is stored after,
   * in the order given. A failure may leave some entries merged and others not; each merge is
   * forward only, so writing them all again is harmless.
   */
  advanceMany(entries: readonly ProtectionAdvance[]): Promise<ProtectionState[]>;
  /**
   * Claims the right to start the exit for `claim` (a plan version and exit
   * attempt) for `ttlMs`; false when another process claimed it first. A
   * claim that lapses (its claimer died) may be taken again.
   */
  claimTrigger(orderNo: string, claim: string, ttlMs: number): Promise<boolean>;
  /** Forgets the state of a tracker that is settled or whose plan was removed. */
  remove(orderNo: string): Promise<void>;
}

/**
 * The exits the reconciler owes a retry (refused after the system had
 * answered for them), with the retries used so far, kept where a restarted
 * process finds them. Every call is idempotent.
 */
export interface OwedExits {
  /** Records that `orderNo` is owed a retry; one already owed keeps its count. */
  owe(orderNo: string): Promise<void>;
  /** Records how many retries `orderNo` has used. */
  retried(orderNo: string, retries: number): Promise<void>;
  /** `orderNo` is owed nothing any more (exited, reported, or gone). */
  settle(orderNo: string): Promise<void>;
  /** Every owed order_no with its retries used. */
  all(): Promise<Map<string, number>>;
}

/**
 * Whether the store's writes have reached enough replicas that a promoted
 * replica still has them (Redis `WAIT`). An exit is answered EXITED, and
 * its order is sent, only once this confirms what was written before it.
 */
export interface WriteConfirmation {
  /**
   * Resolves once every write the store acknowledged before this call has
   * reached the configured number of replicas, or says it has not within its
   * bound (`message` says how many did). Never throws.
   */
  confirm(): Promise<ReplicaConfirmation>;
}

export type ReplicaConfirmation = { readonly confirmed: true } | { readonly confirmed: false; readonly message: string };

// ── Exit lock ────────────────────────────────────────────────────────────────

export interface LockLease {
  readonly resource: string;
  /** Grows monotonically per resource; stores refuse writes carrying an older one. */
  readonly fencingToken: number;
  /**
   * True once the lock is lost (an extension failed or its validity ran out).
   * The exit checks it before each irreversible step; reading it builds no
   * AbortSignal, which on the hot path costs more than the check.
   */
  readonly lost: boolean;
  /** Aborted when the lock is lost: for work that waits and must stop then. */
  readonly signal: AbortSignal;
  /**
   * Epoch ms (the Clock's time) until which the lease is certainly held
   * without a further extension: the latest moment an order may be sent
   * under it. Read it when it is needed; an extension moves it later.
   */
  readonly validUntilMs: number;
  /** Acquisition rounds it took. */
  readonly attempts: number;
}

export type LockAcquisition =
  | { readonly kind: "acquired"; readonly lease: LockLease }
  /** Someone else holds it: a status, not an error. */
  | { readonly kind: "busy"; readonly attempts: number }
  /** No quorum of lock nodes answered. */
  | { readonly kind: "unavailable"; readonly attempts: number; readonly message: string };

export type ReleaseStatus = "released" | "not-held" | "held-by-other";

export interface ExitLock {
  /** Acquires `resource` for `ttlMs`, extended automatically until released. */
  acquire(resource: string, ttlMs: number): Promise<LockAcquisition>;
  /** Owner-only: releasing a lease that is no longer held changes nothing. */
  release(lease: LockLease): Promise<ReleaseStatus>;
}

// ── Last traded price ────────────────────────────────────────────────────────

export interface InstrumentKey {
  readonly segment: Segment;
  readonly securityId: string;
}

export interface LtpQuote {
  readonly found: boolean;
  readonly price?: Money;
  /** Epoch ms of the tick. */
  readonly tickTimeMs?: number;
  readonly source: PriceSource;
  readonly ageMs: number;
  readonly stale: boolean;
}

export interface LtpResolver {
  /** Never throws and never hangs past its own bound: an unknown price is `found: false`, source NONE. */
  resolve(instrument: InstrumentKey): Promise<LtpQuote>;
}

// ── Order router ─────────────────────────────────────────────────────────────

export interface ExitOrderRequest {
  readonly correlationId: string;
  readonly orderNo: string;
  readonly segment: Segment;
  readonly securityId: string;
  readonly symbol: string;
  /** Opposite of the position: SELL closes a LONG. */
  readonly transactionType: "BUY" | "SELL";
  readonly quantity: Money;
  readonly paper: boolean;
  /** The position's product type; absent: the router's configured default. */
  readonly productType?: ProductType;
  /** The LTP the engine saw, when it knew one; a paper router fills at it. */
  readonly referencePrice?: Money;
  /**
   * Epoch ms after which the router must not write this order: it checks
   * immediately before the request is written and throws `deadline-passed`
   * (definitely not placed) instead. The earlier of the lease's validity and
   * the router timeout; stored on the intent.
   */
  readonly sendDeadlineMs: number;
}

export interface BrokerOrder {
  readonly orderId: string;
  readonly correlationId: string;
  readonly status: BrokerOrderStatus;
  readonly quantity: Money;
  readonly tradedQuantity: Money;
  readonly averagePrice?: Money;
  readonly message?: string;
}

export type RouterAvailability = { readonly available: true } | { readonly available: false; readonly reason: string };

export interface OrderRouter {
  availability(): RouterAvailability;
  /**
   * Places a MARKET exit order. Answers the router's raw reply (`true`,
   * `{ success: ... }`, or a broker order shape), normalised by the engine's
   * success detection. Throws TradingCoreError: `resource-exhausted` when the
   * order was definitely not placed (rate limited), `deadline-passed` when it
   * was not written because `order.sendDeadlineMs` had passed, anything else
   * when the outcome is unknown.
   */
  placeExitOrder(order: ExitOrderRequest, signal: AbortSignal): Promise<unknown>;
  /**
   * Waits for the broker's rate limit to admit `order` (every order it goes
   * out as), before the router call's own time starts. Throws
   * TradingCoreError `resource-exhausted` (with `retryAfterMs`) when no slot
   * comes before the order's send deadline, `unauthenticated` when the broker
   * refuses the credentials: either way nothing was sent. Absent: no limit.
   */
  reserveSend?(order: ExitOrderRequest, signal: AbortSignal): Promise<void>;
  /**
   * The order placed with this correlation id, or undefined when the broker
   * has none. `expected.quantity`, when known, is what the attempt's order
   * was for (a router that sliced it follows every slice up to it).
   */
  findOrder(correlationId: string, signal?: AbortSignal, expected?: OrderExpectation): Promise<BrokerOrder | undefined>;
}

export interface OrderExpectation {
  readonly quantity: Money;
  /**
   * True once no process may still send an order of this attempt (its send
   * deadline plus the drift margin has passed, as for "never placed"): a
   * slice still missing at the broker then was never placed.
   */
  readonly sendingOver?: boolean;
}

/**
 * Where broker order updates for exit orders go: the ApplyOrderUpdate path
 * (OrderUpdateHandler). A router with its own feed (a broker WebSocket, the
 * paper market) pushes into it, so every fill reaches a tracker one way.
 */
export interface OrderUpdateSink {
  /**
   * `owe: false`: a refusal it records is not handed to the reconciler for a
   * retry (an exit that is waiting for this order answers its caller itself).
   */
  apply(update: OrderUpdate, options?: { readonly owe?: boolean }): Promise<unknown>;
}

/**
 * The correlation ids of superseded exit attempts that must still be looked
 * up (a late order for one of them is a duplicate), until `untilMs`.
 */
export interface SupersededAttempts {
  /** Records that `correlationId` of `orderNo` was superseded; looked up until `untilMs` (epoch ms). */
  watch(entry: SupersededAttempt): Promise<void>;
  /** Stops looking `correlationId` up. */
  forget(correlationId: string): Promise<void>;
  /** Every attempt still watched. */
  all(): Promise<SupersededAttempt[]>;
}

export interface SupersededAttempt {
  readonly orderNo: string;
  readonly correlationId: string;
  readonly untilMs: number;
  /** Traded quantity of its order already recorded as over-exited (decimal); "0" at first. */
  readonly recordedTraded: string;
  /** True once an order was found for it and reported. */
  readonly reported?: boolean;
}

// ── Clock and events ─────────────────────────────────────────────────────────

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface ExitEventRecord {
  readonly kind: ExitEventKind;
  readonly tracker: TrackerRecord;
  readonly status?: ExitStatus;
  readonly correlationId: string;
  readonly timeMs: number;
  readonly message: string;
  /** For TRIGGERED: the rule of the exit plan that fired. */
  readonly trigger?: ExitTrigger;
}

export interface ExitEventSink {
  /** Must not block or throw: exits never wait for watchers. */
  publish(event: ExitEventRecord): void;
}

/** Structured log sink; pino's Logger satisfies it. */
export interface ExitLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}
