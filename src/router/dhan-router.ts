/**
 * The Dhan v2 HTTP order router: MARKET, DAY exit orders with our correlation
 * id (POST /v2/orders), sliced above the freeze quantity (dhan-slices.ts),
 * and look-up by correlation id (GET /v2/orders/external/{correlationId}).
 *
 * What a reply means, so the engine never re-places blindly:
 * - 2xx → the broker's `{ orderId, orderStatus }`, normalised by the engine.
 * - DH-904 or HTTP 429 → `resource-exhausted`: rate limited, definitely not
 *   placed; further orders wait (doubling, up to a minute) before going out.
 * - DH-901/902/903 (or HTTP 401/403 without a code) → `unauthenticated`:
 *   not placed, and the router is unavailable until a new token is loaded
 *   (the access token source's version changes); nothing more is sent with
 *   the refused token.
 * - DH-905/906/907 and other 4xx → `{ success: false }`: this order refused.
 * - 5xx, DH-908/909/910, a timeout or a dropped connection → `unavailable`:
 *   outcome unknown; counted by the circuit breaker.
 * - The send deadline already passed → `deadline-passed`: not sent.
 *
 * A look-up answers absent for exactly HTTP 404, a DH-907 ("no data") reply
 * or an empty list; anything else that is not an order carrying our
 * correlation id is a failed look-up (thrown), never taken for absence.
 *
 * Orders draw on the account's rate limits (`reserveSend`, before the router
 * call's own time starts). The access token is sent only in the
 * `access-token` header and never logged.
 */
import { ProductType, Segment } from "../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus } from "../../gen/tradingcore/v1/exit_pb.js";
import { formatDecimal, type Money, parseDecimal, ZERO } from "../domain/money.js";
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { BrokerOrder, Clock, ExitLog, ExitOrderRequest, OrderExpectation, OrderRouter, RouterAvailability } from "../exit/ports.js";
import { systemClock } from "../exit/system-clock.js";
import { CircuitBreaker } from "./circuit-breaker.js";
import type { AccessTokenSource } from "./dhan-access-token.js";
import { sliceCorrelationId } from "../domain/exit-correlation-id.js";
import { combineSlices, type FreezeLimits, freezeLimitOf, MAX_SLICES, sliceQuantities } from "./dhan-slices.js";
import {
  brokerOrderStatusOf,
  CREDENTIAL_ERRORS,
  DEFINITE_REJECTIONS,
  DHAN_EXCHANGE_SEGMENTS,
  NO_DATA_ERROR,
  parseBrokerJson,
  RATE_LIMIT_ERROR,
  UNKNOWN_OUTCOME_ERRORS,
} from "./dhan-wire.js";
import { DHAN_ORDER_RATE_LIMITS, MemoryOrderRateLimiter, type OrderRateLimiter, parseRateWindows } from "./order-rate-limit.js";

export interface DhanRouterSettings {
  /** e.g. https://api.dhan.co */
  readonly baseUrl: string;
  readonly clientId: string;
  /** The token itself (fixed) or a source that can be reloaded. */
  readonly accessToken: string | AccessTokenSource;
  /** INTRADAY, CNC, MARGIN or MTF: for positions registered without a product type. */
  readonly productType: string;
  /** Consecutive unknown-outcome failures that open the circuit. */
  readonly circuitThreshold: number;
  readonly circuitOpenMs: number;
  /** The account's order rate limits; in process with Dhan's documented windows when absent. */
  readonly rateLimiter?: OrderRateLimiter;
  /** Freeze quantities above which an exit is sliced; none: never sliced. */
  readonly freezeLimits?: FreezeLimits;
  /** Pause before the next order after a DH-904, ms; doubles while they repeat, up to a minute. */
  readonly rateLimitedPauseMs?: number;
}

export const DEFAULT_DHAN_SETTINGS = {
  baseUrl: "https://api.dhan.co",
  productType: "INTRADAY",
  circuitThreshold: 5,
  circuitOpenMs: 30_000,
} as const;

/** Product types an exit order may carry; CO and BO positions have their own exit legs at the broker. */
export const EXITABLE_PRODUCT_TYPES = ["INTRADAY", "MARGIN", "CNC", "MTF"] as const;

/** A slot must come at least this long before the send deadline, or the order is "not placed" at once: ms for the request itself. */
const SEND_ROOM_MS = 250;
const MAX_RATE_LIMITED_PAUSE_MS = 60_000;

interface CredentialFailure {
  /** The token source version the broker refused. */
  readonly version: number;
  readonly message: string;
}

export class DhanRouter implements OrderRouter {
  private readonly circuit: CircuitBreaker;
  private readonly limiter: OrderRateLimiter;
  private readonly token: AccessTokenSource;
  private refused: CredentialFailure | undefined;
  /** Epoch ms before which no order is sent: the limiter had no slot, or Dhan answered DH-904. */
  private pausedUntil = 0;
  private pauseReason = "";
  private rateLimitedPauseMs: number;

  constructor(
    private readonly settings: DhanRouterSettings,
    private readonly clock: Pick<Clock, "now" | "sleep"> = systemClock,
    private readonly log?: ExitLog,
  ) {
    this.token =
      typeof settings.accessToken === "string"
        ? { current: settings.accessToken, version: 1, expiresAtMs: undefined }
        : settings.accessToken;
    this.circuit = new CircuitBreaker(settings.circuitThreshold, settings.circuitOpenMs, () => clock.now());
    this.limiter = settings.rateLimiter ?? new MemoryOrderRateLimiter(parseRateWindows(DHAN_ORDER_RATE_LIMITS));
    this.rateLimitedPauseMs = settings.rateLimitedPauseMs ?? 1_000;
  }

  /** Unavailable without credentials, with a token the broker refused or that has expired, while rate limited, or with the circuit open. */
  availability(): RouterAvailability {
    if (!this.token.current || !this.settings.clientId) return { available: false, reason: "Dhan router has no client id or access token" };
    const refusal = this.credentialRefusal();
    if (refusal) return { available: false, reason: refusal };
    const expiresAt = this.token.expiresAtMs;
    if (expiresAt !== undefined && expiresAt <= this.clock.now()) {
      return {
        available: false,
        reason: `Dhan router: the access token expired at ${new Date(expiresAt).toISOString()}; load a new one (token file or SIGHUP)`,
      };
    }
    const pausedMs = this.pausedUntil - this.clock.now();
    if (pausedMs > 0) return { available: false, reason: `Dhan router: ${this.pauseReason}; next order slot in ${Math.ceil(pausedMs)} ms` };
    const open = this.circuit.openReason();
    return open ? { available: false, reason: `Dhan router: ${open}` } : { available: true };
  }

  async reserveSend(order: ExitOrderRequest, signal: AbortSignal): Promise<void> {
    const slices = this.slicesOf(order);
    for (let taken = 0; taken < slices; ) {
      const refusal = this.credentialRefusal();
      if (refusal) throw new TradingCoreError("unauthenticated", refusal);
      const now = this.clock.now();
      let waitMs = this.pausedUntil - now;
      if (waitMs <= 0) {
        const decision = await this.limiter.tryTake(now).catch((error: unknown) => {
          throw new TradingCoreError(
            "resource-exhausted",
            `Dhan order rate limit could not be checked: ${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          );
        });
        if (decision.taken) {
          taken++;
          continue;
        }
        waitMs = decision.retryAfterMs;
        if (now + waitMs > order.sendDeadlineMs - SEND_ROOM_MS) this.pause(now + waitMs, "the account's order rate limit is used up");
      }
      if (this.clock.now() + waitMs > order.sendDeadlineMs - SEND_ROOM_MS) {
        throw new TradingCoreError(
          "resource-exhausted",
          `Dhan order rate limit: no slot for ${order.correlationId} before its send deadline (next in ${Math.ceil(waitMs)} ms); not placed`,
          { retryAfterMs: waitMs },
        );
      }
      await this.clock.sleep(waitMs, signal);
      if (signal.aborted)
        throw new TradingCoreError("resource-exhausted", "Dhan order rate limit: the wait for a slot was cut short; not placed");
    }
  }

  async placeExitOrder(order: ExitOrderRequest, signal: AbortSignal): Promise<unknown> {
    const exchangeSegment = DHAN_EXCHANGE_SEGMENTS[order.segment];
    if (!exchangeSegment) return { success: false, message: `segment ${Segment[order.segment]} is not tradable` };
    if (!order.quantity.isInteger() || order.quantity.greaterThan(Number.MAX_SAFE_INTEGER)) {
      return { success: false, message: `quantity ${formatDecimal(order.quantity)} is not a whole number of units` };
    }
    const productType = this.productTypeOf(order);
    if (!productType.ok) return { success: false, message: productType.message };
    const refusal = this.credentialRefusal();
    if (refusal) throw new TradingCoreError("unauthenticated", refusal);
    let slices: Money[];
    try {
      slices = sliceQuantities(order.quantity, this.freezeLimit(order));
    } catch (error) {
      return { success: false, message: error instanceof Error ? error.message : String(error) };
    }
    let first: unknown;
    for (const [index, quantity] of slices.entries()) {
      const correlationId = slices.length === 1 ? order.correlationId : sliceCorrelationId(order.correlationId, index);
      try {
        const reply = await this.placeOne(order, correlationId, quantity, exchangeSegment, productType.name, signal);
        if (index === 0) first = reply;
        if (index === 0 && !isAccepted(reply)) return reply;
      } catch (error) {
        // The first slice's failure is the order's; a later one's leaves the slices placed to be followed to their fills.
        // Either way no further slice goes out: the slices placed are always a prefix of the plan, which is what
        // lets a look-up stop at the first slice it does not find (and "never placed" hold for the attempt).
        if (index === 0) throw error;
        this.log?.error(
          { correlationId, slice: index + 1, slices: slices.length, err: error },
          "a slice of a sliced Dhan exit order was not placed; the exit stays EXITING with the slices placed followed, and is reported overdue",
        );
        break;
      }
    }
    return first;
  }

  /**
   * The attempt's order: the one with its correlation id (unsliced), else
   * its slices as one order, looked up in order until they add up to
   * `expected.quantity` (when unknown, until one is not found).
   */
  async findOrder(correlationId: string, signal?: AbortSignal, expected?: OrderExpectation): Promise<BrokerOrder | undefined> {
    const whole = await this.findOne(correlationId, signal);
    if (whole) return whole;
    const first = await this.findOne(sliceCorrelationId(correlationId, 0), signal);
    if (!first) return undefined;
    const slices = [first];
    let found = first.quantity;
    const more = () => !expected || found.lessThan(expected.quantity);
    for (let index = 1; index < MAX_SLICES && more(); index++) {
      const slice = await this.findOne(sliceCorrelationId(correlationId, index), signal);
      if (!slice) break;
      slices.push(slice);
      found = found.plus(slice.quantity);
    }
    return combineSlices(correlationId, slices, expected?.quantity, expected?.sendingOver ?? false);
  }

  private async placeOne(
    order: ExitOrderRequest,
    correlationId: string,
    quantity: Money,
    exchangeSegment: string,
    productType: string,
    signal: AbortSignal,
  ): Promise<unknown> {
    const body = JSON.stringify({
      dhanClientId: this.settings.clientId,
      correlationId,
      transactionType: order.transactionType,
      exchangeSegment,
      productType,
      orderType: "MARKET",
      validity: "DAY",
      securityId: order.securityId,
      quantity: quantity.toNumber(),
      disclosedQuantity: 0,
      price: 0,
      triggerPrice: 0,
      afterMarketOrder: false,
    });
    // The send deadline is checked last before the request goes to fetch. fetch (undici) writes the request
    // itself, after awaits of its own (a pooled connection, or a new one): that gap cannot be closed from here,
    // so the request is also aborted when the deadline passes before fetch has sent it (then the outcome is
    // unknown, resolved by look-up, and "never placed" waits for the deadline plus the drift margin).
    const remainingMs = order.sendDeadlineMs - this.clock.now();
    if (remainingMs <= 0) {
      throw new TradingCoreError(
        "deadline-passed",
        `Dhan order ${correlationId} not sent: its send deadline passed ${-remainingMs} ms ago`,
      );
    }
    const { status, payload } = await this.request("POST", "/v2/orders", AbortSignal.any([signal, AbortSignal.timeout(remainingMs)]), body);
    if (status >= 200 && status < 300) {
      this.circuit.recordSuccess();
      this.rateLimitedPauseMs = this.settings.rateLimitedPauseMs ?? 1_000;
      return payload;
    }
    const { code, message } = errorOf(payload);
    if (code === RATE_LIMIT_ERROR || status === 429) {
      const pauseMs = this.rateLimitedPauseMs;
      this.rateLimitedPauseMs = Math.min(MAX_RATE_LIMITED_PAUSE_MS, pauseMs * 2);
      this.pause(this.clock.now() + pauseMs, `Dhan answered ${code || "HTTP 429"} (rate limited)`);
      throw new TradingCoreError("resource-exhausted", `Dhan rate limited the order (${code || status}): ${message}`, {
        retryAfterMs: pauseMs,
      });
    }
    if (this.isCredentialError(status, code))
      throw new TradingCoreError("unauthenticated", this.refuseCredentials(code || `HTTP ${status}`, message));
    // DH-908/909/910 may come with a 4xx status; the order may exist all the same.
    const unknownOutcome = UNKNOWN_OUTCOME_ERRORS.has(code);
    if (DEFINITE_REJECTIONS.has(code) || (!unknownOutcome && status >= 400 && status < 500 && status !== 408)) {
      // The broker is up and judging orders: that closes the circuit as a fill would.
      this.circuit.recordSuccess();
      return { success: false, message: `Dhan refused the order (${code || `HTTP ${status}`}): ${message}` };
    }
    this.circuit.recordFailure();
    throw new TradingCoreError("unavailable", `Dhan answered HTTP ${status} ${code}: ${message}; the order may exist`);
  }

  private async findOne(correlationId: string, signal?: AbortSignal): Promise<BrokerOrder | undefined> {
    const { status, payload } = await this.request("GET", `/v2/orders/external/${encodeURIComponent(correlationId)}`, signal);
    const { code, message } = errorOf(payload);
    if (status === 404 || (status >= 400 && status < 500 && code === NO_DATA_ERROR)) return undefined;
    if (status < 200 || status >= 300) {
      if (status >= 500) this.circuit.recordFailure();
      if (this.isCredentialError(status, code)) this.refuseCredentials(code || `HTTP ${status}`, message);
      throw new TradingCoreError("unavailable", `Dhan order look-up failed: HTTP ${status} ${code}: ${message}`);
    }
    this.circuit.recordSuccess();
    if (payload === undefined || (Array.isArray(payload) && payload.length === 0)) return undefined;
    const orders = (Array.isArray(payload) ? payload : [payload]).filter(
      (order): order is Record<string, unknown> => typeof order === "object" && order !== null,
    );
    const found = orders.find((order) => String(order.correlationId ?? "") === correlationId);
    if (!found) {
      throw new TradingCoreError(
        "unavailable",
        `Dhan order look-up for ${correlationId} answered ${orders.length} order(s) without that correlation id; not taken as the order, nor as its absence`,
      );
    }
    return brokerOrderOf(found, correlationId);
  }

  private slicesOf(order: ExitOrderRequest): number {
    try {
      return sliceQuantities(order.quantity, this.freezeLimit(order)).length;
    } catch {
      return 1; // placeExitOrder refuses it, without sending anything
    }
  }

  private freezeLimit(order: ExitOrderRequest): Money | undefined {
    return this.settings.freezeLimits ? freezeLimitOf(this.settings.freezeLimits, order.segment, order.securityId) : undefined;
  }

  private productTypeOf(order: ExitOrderRequest): { ok: true; name: string } | { ok: false; message: string } {
    const name = order.productType ? (ProductType[order.productType] ?? "") : this.settings.productType;
    return (EXITABLE_PRODUCT_TYPES as readonly string[]).includes(name)
      ? { ok: true, name }
      : { ok: false, message: `product type ${name || order.productType} cannot be exited with a market order` };
  }

  private isCredentialError(status: number, code: string): boolean {
    return CREDENTIAL_ERRORS.has(code) || (code === "" && (status === 401 || status === 403));
  }

  /** Keeps the current token out of use until another is loaded; answers the reason exits are given. */
  private refuseCredentials(code: string, message: string): string {
    const reason = `Dhan refused the credentials (${code}: ${message}); exits answer ROUTER_UNAVAILABLE until a new access token is loaded (token file or SIGHUP)`;
    if (this.refused?.version !== this.token.version) {
      this.log?.error({ code, tokenVersion: this.token.version }, reason);
    }
    this.refused = { version: this.token.version, message: reason };
    return reason;
  }

  private credentialRefusal(): string | undefined {
    return this.refused && this.refused.version === this.token.version ? this.refused.message : undefined;
  }

  private pause(untilMs: number, reason: string): void {
    if (untilMs <= this.pausedUntil) return;
    this.pausedUntil = untilMs;
    this.pauseReason = reason;
    this.log?.warn({ pausedForMs: Math.ceil(untilMs - this.clock.now()) }, `Dhan orders paused: ${reason}`);
  }

  private async request(
    method: string,
    path: string,
    signal: AbortSignal | undefined,
    body?: string,
  ): Promise<{ status: number; payload: unknown }> {
    try {
      const response = await fetch(new URL(path, this.settings.baseUrl), {
        method,
        headers: { "access-token": this.token.current, "content-type": "application/json", accept: "application/json" },
        ...(body === undefined ? {} : { body }),
        ...(signal ? { signal } : {}),
      });
      const text = await response.text();
      let payload: unknown;
      try {
        payload = parseBrokerJson(text);
      } catch {
        payload = { errorMessage: text.slice(0, 200) };
      }
      return { status: response.status, payload };
    } catch (error) {
      this.circuit.recordFailure();
      throw new TradingCoreError(
        "unavailable",
        `Dhan ${method} ${path.split("/").slice(0, 3).join("/")} failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }
}

function isAccepted(reply: unknown): boolean {
  if (typeof reply !== "object" || reply === null) return false;
  const fields = reply as Record<string, unknown>;
  return !("success" in fields) || fields.success === true;
}

function errorOf(payload: unknown): { code: string; message: string } {
  const fields = (typeof payload === "object" && payload !== null && !Array.isArray(payload) ? payload : {}) as Record<string, unknown>;
  return { code: String(fields.errorCode ?? ""), message: String(fields.errorMessage ?? fields.message ?? "") };
}

function brokerOrderOf(fields: Record<string, unknown>, correlationId: string): BrokerOrder {
  // The broker's JSON is not our contract: its numbers may come as padded strings.
  const decimalOf = (value: unknown) => parseDecimal(String(value ?? "").trim());
  const averagePrice = decimalOf(fields.averageTradedPrice);
  const message = String(fields.omsErrorDescription ?? "");
  const status = brokerOrderStatusOf(fields.orderStatus);
  return {
    orderId: String(fields.orderId ?? ""),
    correlationId,
    status,
    quantity: decimalOf(fields.quantity) ?? ZERO,
    tradedQuantity: decimalOf(fields.filledQty) ?? ZERO,
    ...(averagePrice?.greaterThan(0) ? { averagePrice } : {}),
    ...(message ? { message } : status === BrokerOrderStatus.UNSPECIFIED ? { message: `status ${String(fields.orderStatus)}` } : {}),
  };
}
