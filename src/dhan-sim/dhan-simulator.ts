/**
 * A Dhan v2 simulator on one local port: the order REST API, the live order
 * update WebSocket (`/order-update`) and the live market feed WebSocket
 * (`/market-feed`), built from Dhan's documented shapes, with the behaviour a
 * real account shows: orders that stay in TRANSIT and PENDING before they
 * trade, rejections after acceptance, partial fills then cancellations,
 * tokens that expire (DH-901), rate limits (DH-904), and faults on demand.
 *
 * Time is the simulator's clock: with a `ManualSimClock` nothing happens to
 * an order until the clock is moved (`advance`), so tests never sleep.
 * Faults: `nextOutcomes` (what the next accepted orders do), `nextFaults`
 * (what the next POSTs meet), or seeded draws (`seed`, `faultRate`,
 * `rejectRate`, `partialRate`) that repeat exactly for the same seed.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { seededRandom } from "../router/seeded-random.js";
import {
  type AbsentOrderReply,
  DHAN_ERRORS,
  DHAN_ORDER_RATE_LIMITS,
  type OrderRateLimits,
  type PlacementFault,
  SimAccount,
} from "./sim-account.js";
import { handleControl } from "./sim-control-api.js";
import { orderJson, raw, reply, requestOf } from "./sim-order-wire.js";
import { type SimClock, wallClock } from "./sim-clock.js";
import { type MarketFeedTiming, SimMarketFeed } from "./sim-market-feed.js";
import { SimOrderFeed } from "./sim-order-feed.js";
import { type LifecycleDelays, type OrderOutcome, SimOrderBook, stepAt, stepsOf } from "./sim-order-book.js";
import { TickWalk } from "./tick-walk.js";

export interface DhanSimulatorOptions {
  readonly clientId?: string;
  readonly accessToken?: string;
  /** How long the token lives from start (and from each renewal), ms; for ever when absent. */
  readonly tokenTtlMs?: number;
  readonly clock?: SimClock;
  readonly delays?: Partial<LifecycleDelays>;
  readonly rateLimits?: Partial<OrderRateLimits>;
  readonly marketFeed?: Partial<MarketFeedTiming>;
  /** Seed of the fault draws. */
  readonly seed?: number;
  /** Share of order POSTs that meet a placement fault (0..1). */
  readonly faultRate?: number;
  /** Share of accepted orders rejected after acceptance (0..1). */
  readonly rejectRate?: number;
  /** Share of accepted orders partly filled, then cancelled (0..1). */
  readonly partialRate?: number;
  /** Price orders trade at when the instrument has had no tick, decimal text. */
  readonly defaultPrice?: string;
  /** With a value, every subscribed instrument ticks that often (a seeded random walk), ms. */
  readonly tickIntervalMs?: number;
  /** Whether the control API (`/sim/…`) answers; on by default. */
  readonly controlApi?: boolean;
  /** How often the wall-clock timer moves lifecycles along, ms (with a manual clock, `advance` does). */
  readonly stepIntervalMs?: number;
}

const MAX_BODY_CHARS = 64 * 1024;

export const DEFAULT_LIFECYCLE_DELAYS: LifecycleDelays = { pendingAfterMs: 200, tradedAfterMs: 300 };

export class DhanSimulator {
  readonly account: SimAccount;
  readonly orders = new SimOrderBook();
  readonly requests: { method: string; path: string; token: string | undefined; body: string }[] = [];
  /** Outcomes of the next accepted orders, first first; then seeded draws, then "fill". */
  nextOutcomes: OrderOutcome[] = [];
  /** Faults the next order POSTs meet, first first; then seeded draws. */
  nextFaults: PlacementFault[] = [];
  /** How a look-up of an order the account does not have is answered. */
  absentReply: AbsentOrderReply = "404";
  /** Order POSTs answered DH-904 because they would breach the account's own limits. */
  rateLimitedPosts = 0;
  readonly clock: SimClock;
  private readonly delays: LifecycleDelays;
  private readonly random: () => number;
  private readonly lastPrices = new Map<string, string>();
  private readonly server: http.Server;
  private readonly orderFeedServer = new WebSocketServer({ noServer: true });
  private readonly marketFeedServer = new WebSocketServer({ noServer: true });
  readonly orderFeed: SimOrderFeed;
  readonly marketFeed: SimMarketFeed;
  private readonly walk: TickWalk | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: DhanSimulatorOptions = {}) {
    this.clock = options.clock ?? wallClock;
    this.delays = { ...DEFAULT_LIFECYCLE_DELAYS, ...options.delays };
    this.random = seededRandom(options.seed ?? 1);
    this.account = new SimAccount(
      options.clientId ?? "1000000001",
      options.accessToken ?? "sim-access-token",
      this.clock,
      { ...DHAN_ORDER_RATE_LIMITS, ...options.rateLimits },
      options.tokenTtlMs,
    );
    this.orderFeed = new SimOrderFeed(this.orderFeedServer, this.account);
    this.marketFeed = new SimMarketFeed(this.marketFeedServer, this.account, this.clock, {
      pingIntervalMs: 10_000,
      idleDropMs: 40_000,
      ...options.marketFeed,
    });
    this.walk = options.tickIntervalMs ? new TickWalk(options.tickIntervalMs, options.seed ?? 1, this.clock.now()) : undefined;
    this.server = http.createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => {
        body += chunk.toString("utf8");
        // No Dhan request is anywhere near this: a body this large is a mistake, not an order.
        if (body.length > MAX_BODY_CHARS) request.destroy();
      });
      request.on("end", () => this.handle(request, response, body));
    });
    this.server.on("upgrade", (request, socket, head) => {
      const path = new URL(request.url ?? "/", "http://sim").pathname;
      if (path === "/order-update" && !this.orderFeed.down) {
        this.orderFeedServer.handleUpgrade(request, socket, head, (ws) => this.orderFeedServer.emit("connection", ws, request));
      } else if (path === "/market-feed" && this.marketFeed.admits(request)) {
        this.marketFeedServer.handleUpgrade(request, socket, head, (ws) => this.marketFeedServer.emit("connection", ws, request));
      } else {
        socket.end("HTTP/1.1 401 Unauthorized\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
      }
    });
  }

  async start(port = 0, host = "127.0.0.1"): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
    this.timer = setInterval(() => this.step(), this.options.stepIntervalMs ?? 25);
    this.timer.unref();
    return this;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.orderFeed.dropAll();
    this.marketFeed.dropAll();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get baseUrl(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  get orderUpdateUrl(): string {
    return `${this.baseUrl.replace("http", "ws")}/order-update`;
  }

  get marketFeedUrl(): string {
    return `${this.baseUrl.replace("http", "ws")}/market-feed`;
  }

  /** Moves a manual clock on and lets everything due by then happen (alerts, pings, idle drops, walk ticks). */
  advance(ms: number): void {
    const clock = this.clock as { advance?: (ms: number) => void };
    if (!clock.advance) throw new Error("advance needs the simulator to run on a ManualSimClock");
    clock.advance(ms);
    this.step();
  }

  /** Pushes what is due on the clock now: order alerts, market-feed pings and drops, random-walk ticks. */
  step(): void {
    for (const { order, step } of this.orders.takeDue(this.clock.now())) this.orderFeed.push(order, step);
    this.marketFeed.keepAlive();
    for (const [key, ltp] of this.walk?.due(this.clock.now(), this.marketFeed.subscribed(), this.lastPrices) ?? []) {
      const [segment, securityId] = key.split(":") as [string, string];
      this.tick(segment, securityId, ltp);
    }
  }

  /** A trade on the exchange: orders for the instrument fill at it from now, and subscribed clients get a ticker packet. */
  tick(exchangeSegment: string, securityId: string, ltp: string): void {
    this.lastPrices.set(`${exchangeSegment}:${securityId}`, ltp);
    this.marketFeed.tick(exchangeSegment, securityId, ltp, this.clock.now());
  }

  /** An order update outage: every connection cut, new ones refused, alerts meanwhile lost. */
  setOrderFeedDown(down: boolean): void {
    this.orderFeed.down = down;
    if (down) this.orderFeed.dropAll();
  }

  /** A market feed outage: every connection cut, new ones refused. */
  setMarketFeedDown(down: boolean): void {
    this.marketFeed.down = down;
    if (down) this.marketFeed.dropAll();
  }

  /** The order with `correlationId`, in the state it has now. */
  orderState(correlationId: string): ReturnType<typeof stepAt> | undefined {
    const order = this.orders.byCorrelation(correlationId);
    return order ? stepAt(order, this.clock.now()) : undefined;
  }

  /** Order POSTs received, whatever they were answered. */
  get orderPosts(): number {
    return this.requests.filter((request) => request.method === "POST" && request.path === "/v2/orders").length;
  }

  /** Order POSTs accepted (placed at the exchange), in total. */
  get placedOrders(): number {
    return this.orders.all().length;
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse, body: string) {
    const url = new URL(request.url ?? "/", "http://sim");
    const token = request.headers["access-token"] as string | undefined;
    if (url.pathname.startsWith("/sim/") && this.options.controlApi !== false)
      return handleControl(this, request.method ?? "", url, body, response);
    this.requests.push({ method: request.method ?? "", path: url.pathname, token, body });
    if (!url.pathname.startsWith("/v2/")) return reply(response, DHAN_ERRORS.inputError);
    if (!this.account.accepts(token)) return reply(response, DHAN_ERRORS.invalidToken);
    if (request.method === "POST" && url.pathname === "/v2/orders") return this.placeOrder(response, body);
    const byCorrelation = /^\/v2\/orders\/external\/([^/]+)$/.exec(url.pathname);
    const byId = /^\/v2\/orders\/([^/]+)$/.exec(url.pathname);
    if (request.method === "GET" && (byCorrelation || byId)) {
      const order = byCorrelation
        ? this.orders.byCorrelation(decodeURIComponent(byCorrelation[1]!))
        : this.orders.byOrderId(decodeURIComponent(byId![1]!));
      if (!order) return this.absent(response);
      return raw(response, 200, orderJson(order, this.clock.now()));
    }
    reply(response, { status: 404, body: { ...DHAN_ERRORS.inputError.body, errorMessage: `no API ${request.method} ${url.pathname}` } });
  }

  private placeOrder(response: http.ServerResponse, body: string) {
    const order = requestOf(body);
    if (!order) return reply(response, DHAN_ERRORS.inputError);
    if (!this.account.admitOrder()) {
      this.rateLimitedPosts++;
      return reply(response, DHAN_ERRORS.rateLimited);
    }
    const fault = this.nextFaults.shift() ?? this.drawFault();
    if (fault === "reject") return reply(response, DHAN_ERRORS.orderError);
    if (fault === "rate-limit") return reply(response, DHAN_ERRORS.rateLimited);
    if (fault === "server-error") return reply(response, DHAN_ERRORS.internal);
    const outcome = this.nextOutcomes.shift() ?? this.drawOutcome();
    const price = this.lastPrices.get(`${order.exchangeSegment}:${order.securityId}`) ?? this.options.defaultPrice ?? "100";
    const placed = this.orders.add(order, stepsOf(outcome, order.quantity, this.clock.now(), this.delays), price, this.clock.now());
    this.step();
    if (fault === "network-error-after-accept") return reply(response, DHAN_ERRORS.network);
    if (fault === "accept-then-drop") {
      response.socket?.destroy();
      return;
    }
    // The answer is the state the order was accepted in, however soon it moves on (as Dhan answers TRANSIT).
    raw(response, 200, JSON.stringify({ orderId: placed.orderId, orderStatus: placed.steps[0]!.status }));
  }

  private absent(response: http.ServerResponse): void {
    if (this.absentReply === "no-data") reply(response, DHAN_ERRORS.noData);
    else if (this.absentReply === "empty-object") raw(response, 200, "{}");
    else reply(response, DHAN_ERRORS.noOrder);
  }

  private drawFault(): PlacementFault | undefined {
    if (!this.options.faultRate || this.random() >= this.options.faultRate) return undefined;
    const faults: PlacementFault[] = ["rate-limit", "server-error", "network-error-after-accept", "accept-then-drop"];
    return faults[Math.floor(this.random() * faults.length)];
  }

  private drawOutcome(): OrderOutcome {
    const draw = this.options.rejectRate || this.options.partialRate ? this.random() : 1;
    if (draw < (this.options.rejectRate ?? 0)) return "reject";
    if (draw < (this.options.rejectRate ?? 0) + (this.options.partialRate ?? 0)) return "partial-then-cancel";
    return "fill";
  }
}
