/**
 * One Dhan account as the simulator keeps it: its access token (which
 * expires), its order rate limits, and the faults the next orders meet.
 * Dhan's error bodies are `{ errorType, errorCode, errorMessage }` with the
 * DH-9xx codes of its annexure; the HTTP status beside each code is the
 * simulator's choice (Dhan documents the codes, not the statuses).
 */
import type { SimClock } from "./sim-clock.js";

export interface DhanErrorReply {
  readonly status: number;
  readonly body: { readonly errorType: string; readonly errorCode: string; readonly errorMessage: string };
}

export const DHAN_ERRORS = {
  invalidToken: {
    status: 401,
    body: {
      errorType: "Invalid_Authentication",
      errorCode: "DH-901",
      errorMessage: "Client ID or user generated access token is invalid or expired.",
    },
  },
  rateLimited: {
    status: 429,
    body: {
      errorType: "Rate_Limit",
      errorCode: "DH-904",
      errorMessage: "Too many requests on server from single user breaching rate limits.",
    },
  },
  inputError: {
    status: 400,
    body: { errorType: "Input_Exception", errorCode: "DH-905", errorMessage: "Missing required fields, bad values for parameters etc." },
  },
  orderError: {
    status: 400,
    body: { errorType: "Order_Error", errorCode: "DH-906", errorMessage: "Incorrect request for order and cannot be processed." },
  },
  noData: {
    status: 400,
    body: {
      errorType: "Data_Error",
      errorCode: "DH-907",
      errorMessage: "System is unable to fetch data due to incorrect parameters or no data present.",
    },
  },
  noOrder: { status: 404, body: { errorType: "Order_Error", errorCode: "DH-906", errorMessage: "No order found for the given id." } },
  internal: {
    status: 500,
    body: { errorType: "Internal_Server_Error", errorCode: "DH-908", errorMessage: "Server was not able to process API request." },
  },
  network: {
    status: 400,
    body: {
      errorType: "Network_Error",
      errorCode: "DH-909",
      errorMessage: "Network error: the API was not able to communicate with the backend system.",
    },
  },
} as const satisfies Record<string, DhanErrorReply>;

/** What the next order POST meets, instead of (or after) being accepted. */
export type PlacementFault =
  /** None: the POST is answered as usual (a place holder, so that a later POST in the list meets a fault). */
  | "none"
  /** 400 DH-906 at once: nothing placed. */
  | "reject"
  /** 429 DH-904: nothing placed. */
  | "rate-limit"
  /** 500 DH-908: nothing placed. */
  | "server-error"
  /** Placed, then answered 400 DH-909: the caller cannot know it was placed. */
  | "network-error-after-accept"
  /** Placed, then the connection is cut before any answer. */
  | "accept-then-drop";

export const PLACEMENT_FAULTS: readonly PlacementFault[] = [
  "none",
  "reject",
  "rate-limit",
  "server-error",
  "network-error-after-accept",
  "accept-then-drop",
];

/**
 * How a look-up answers for an order the account does not have. Dhan
 * documents none of these for it: 404 DH-906 is the simulator's default,
 * 400 DH-907 ("no data present") and a 200 `{}` are the other replies a
 * client must be ready for.
 */
export type AbsentOrderReply = "404" | "no-data" | "empty-object";

export const ABSENT_ORDER_REPLIES: readonly AbsentOrderReply[] = ["404", "no-data", "empty-object"];

/** Order limits of the account, per window; Dhan documents per second, minute, hour and day. */
export interface OrderRateLimits {
  readonly perSecond: number;
  readonly perMinute: number;
  readonly perHour: number;
  readonly perDay: number;
}

export const DHAN_ORDER_RATE_LIMITS: OrderRateLimits = { perSecond: 10, perMinute: 250, perHour: 1_000, perDay: 7_000 };

const WINDOWS: readonly (readonly [keyof OrderRateLimits, number])[] = [
  ["perSecond", 1_000],
  ["perMinute", 60_000],
  ["perHour", 3_600_000],
  ["perDay", 86_400_000],
];

export class SimAccount {
  private token: string;
  private tokenExpiresAtMs: number;
  /** Times of the orders admitted, oldest first. */
  private readonly orderTimes: number[] = [];

  constructor(
    readonly clientId: string,
    token: string,
    private readonly clock: SimClock,
    private readonly limits: OrderRateLimits,
    tokenTtlMs = Number.POSITIVE_INFINITY,
  ) {
    this.token = token;
    this.tokenExpiresAtMs = clock.now() + tokenTtlMs;
  }

  /** The token the account accepts now. */
  get accessToken(): string {
    return this.token;
  }

  /** True when `token` is the account's and has not expired. */
  accepts(token: string | undefined): boolean {
    return token === this.token && this.clock.now() < this.tokenExpiresAtMs;
  }

  /** The token stops working now (DH-901 from here on), as a 24-hour token does at its end. */
  expireToken(): void {
    this.tokenExpiresAtMs = this.clock.now();
  }

  /** A new token, valid for `ttlMs`; the old one stops working. */
  renewToken(token: string, ttlMs = Number.POSITIVE_INFINITY): void {
    this.token = token;
    this.tokenExpiresAtMs = this.clock.now() + ttlMs;
  }

  /** Admits one order POST and counts it, or answers false (DH-904) when it would breach a window; a refused POST is not counted. */
  admitOrder(): boolean {
    const now = this.clock.now();
    while (this.orderTimes.length > 0 && this.orderTimes[0]! <= now - 86_400_000) this.orderTimes.shift();
    const breached = WINDOWS.some(([limit, windowMs]) => {
      let inWindow = 0;
      for (let i = this.orderTimes.length - 1; i >= 0 && this.orderTimes[i]! > now - windowMs; i--) inWindow++;
      return inWindow >= this.limits[limit];
    });
    if (!breached) this.orderTimes.push(now);
    return !breached;
  }
}
