/**
 * The Dhan v2 HTTP order router: MARKET, DAY exit orders with our correlation
 * id (POST /v2/orders) and look-up by correlation id
 * (GET /v2/orders/external/{correlationId}).
 *
 * What a reply means, so the engine never re-places blindly:
 * - 2xx → the broker's `{ orderId, orderStatus }`, normalised by the engine.
 * - DH-904 or HTTP 429 → `resource-exhausted`: rate limited, definitely not placed.
 * - DH-901/902/903/905/906/907, other 4xx → `{ success: false }`: a definite rejection.
 * - 5xx, DH-908/909/910, a timeout or a dropped connection → `unavailable`: outcome unknown.
 * - The request's send deadline already passed → `deadline-passed`: not sent.
 * The access token is sent only in the `access-token` header and never logged.
 */
import { formatDecimal, parseDecimal, ZERO } from "../domain/money.js";
import { TradingCoreError } from "../domain/trading-core-error.js";
import { Segment } from "../../gen/tradingcore/v1/common_pb.js";
import type { BrokerOrder, ExitOrderRequest, OrderRouter, RouterAvailability } from "../exit/ports.js";
import { CircuitBreaker } from "./circuit-breaker.js";
import {
  brokerOrderStatusOf,
  DEFINITE_REJECTIONS,
  DHAN_EXCHANGE_SEGMENTS,
  parseBrokerJson,
  RATE_LIMIT_ERROR,
  UNKNOWN_OUTCOME_ERRORS,
} from "./dhan-wire.js";
import { TokenBucket } from "./token-bucket.js";

export interface DhanRouterSettings {
  /** e.g. https://api.dhan.co */
  readonly baseUrl: string;
  readonly clientId: string;
  readonly accessToken: string;
  /** INTRADAY, CNC, MARGIN, … as the position was entered. */
  readonly productType: string;
  readonly ordersPerSecond: number;
  /** Consecutive unknown-outcome failures that open the circuit. */
  readonly circuitThreshold: number;
  readonly circuitOpenMs: number;
}

export const DEFAULT_DHAN_SETTINGS = {
  baseUrl: "https://api.dhan.co",
  productType: "INTRADAY",
  ordersPerSecond: 10,
  circuitThreshold: 5,
  circuitOpenMs: 30_000,
} as const;

export class DhanRouter implements OrderRouter {
  private readonly bucket: TokenBucket;
  private readonly circuit: CircuitBreaker;

  constructor(
    private readonly settings: DhanRouterSettings,
    /** Epoch ms; send deadlines are judged by it. */
    private readonly now: () => number = Date.now,
  ) {
    this.bucket = new TokenBucket(settings.ordersPerSecond);
    this.circuit = new CircuitBreaker(settings.circuitThreshold, settings.circuitOpenMs);
  }

  availability(): RouterAvailability {
    if (!this.settings.accessToken || !this.settings.clientId)
      return { available: false, reason: "Dhan router has no client id or access token" };
    const open = this.circuit.openReason();
    return open ? { available: false, reason: `Dhan router: ${open}` } : { available: true };
  }

  async placeExitOrder(order: ExitOrderRequest, signal: AbortSignal): Promise<unknown> {
    const exchangeSegment = DHAN_EXCHANGE_SEGMENTS[order.segment];
    if (!exchangeSegment) return { success: false, message: `segment ${Segment[order.segment]} is not tradable` };
    if (!order.quantity.isInteger() || order.quantity.greaterThan(Number.MAX_SAFE_INTEGER)) {
      return { success: false, message: `quantity ${formatDecimal(order.quantity)} is not a whole number of units` };
    }
    if (!(await this.bucket.take(signal)))
      throw new TradingCoreError("resource-exhausted", "Dhan order rate limit: no slot before the deadline");
    const body = JSON.stringify({
      dhanClientId: this.settings.clientId,
      correlationId: order.correlationId,
      transactionType: order.transactionType,
      exchangeSegment,
      productType: this.settings.productType,
      orderType: "MARKET",
      validity: "DAY",
      securityId: order.securityId,
      quantity: order.quantity.toNumber(),
      disclosedQuantity: 0,
      price: 0,
      triggerPrice: 0,
      afterMarketOrder: false,
    });
    // The send deadline is checked last before the request goes to fetch. fetch (undici) writes the request
    // itself, after awaits of its own (a pooled connection, or a new one): that gap cannot be closed from here,
    // so the request is also aborted when the deadline passes before fetch has sent it (then the outcome is
    // unknown, resolved by look-up, and "never placed" waits for the deadline plus the drift margin).
    const remainingMs = order.sendDeadlineMs - this.now();
    if (remainingMs <= 0) {
      throw new TradingCoreError(
        "deadline-passed",
        `Dhan order ${order.correlationId} not sent: its send deadline passed ${-remainingMs} ms ago`,
      );
    }
    const { status, payload } = await this.request("POST", "/v2/orders", AbortSignal.any([signal, AbortSignal.timeout(remainingMs)]), body);
    if (status >= 200 && status < 300) return payload;
    const { code, message } = errorOf(payload);
    if (code === RATE_LIMIT_ERROR || status === 429)
      throw new TradingCoreError("resource-exhausted", `Dhan rate limited the order (${code || status}): ${message}`);
    // DH-908/909/910 may come with a 4xx status; the order may exist all the same.
    const unknownOutcome = UNKNOWN_OUTCOME_ERRORS.has(code);
    if (DEFINITE_REJECTIONS.has(code) || (!unknownOutcome && status >= 400 && status < 500 && status !== 408)) {
      return { success: false, message: `Dhan refused the order (${code || `HTTP ${status}`}): ${message}` };
    }
    this.circuit.recordFailure();
    throw new TradingCoreError("unavailable", `Dhan answered HTTP ${status} ${code}: ${message}; the order may exist`);
  }

  async findOrder(correlationId: string, signal?: AbortSignal): Promise<BrokerOrder | undefined> {
    const { status, payload } = await this.request("GET", `/v2/orders/external/${encodeURIComponent(correlationId)}`, signal);
    if (status === 404) return undefined;
    if (status < 200 || status >= 300) {
      const { code, message } = errorOf(payload);
      if (status === 400 && /not found|no (order|record)/i.test(message)) return undefined;
      throw new TradingCoreError("unavailable", `Dhan order look-up failed: HTTP ${status} ${code}: ${message}`);
    }
    const found = (Array.isArray(payload) ? payload : [payload]).find(
      (order): order is Record<string, unknown> =>
        typeof order === "object" &&
        order !== null &&
        String((order as Record<string, unknown>).correlationId ?? correlationId) === correlationId,
    );
    return found ? brokerOrderOf(found, correlationId) : undefined;
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
        headers: { "access-token": this.settings.accessToken, "content-type": "application/json", accept: "application/json" },
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
      if (response.status < 500) this.circuit.recordSuccess();
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

function errorOf(payload: unknown): { code: string; message: string } {
  const fields = (typeof payload === "object" && payload !== null ? payload : {}) as Record<string, unknown>;
  return { code: String(fields.errorCode ?? ""), message: String(fields.errorMessage ?? fields.message ?? "") };
}

function brokerOrderOf(fields: Record<string, unknown>, correlationId: string): BrokerOrder {
  // The broker's JSON is not our contract: its numbers may come as padded strings.
  const decimalOf = (value: unknown) => parseDecimal(String(value ?? "").trim());
  const averagePrice = decimalOf(fields.averageTradedPrice);
  const message = String(fields.omsErrorDescription ?? "");
  return {
    orderId: String(fields.orderId ?? ""),
    correlationId,
    status: brokerOrderStatusOf(fields.orderStatus),
    quantity: decimalOf(fields.quantity) ?? ZERO,
    tradedQuantity: decimalOf(fields.filledQty) ?? ZERO,
    ...(averagePrice?.greaterThan(0) ? { averagePrice } : {}),
    ...(message ? { message } : {}),
  };
}
