/**
 * A local HTTP server speaking Dhan v2's documented order shapes, standing in
 * for the broker (the one real part that lives outside this machine).
 * Behaviour per order is scripted with `nextReplies`; the status an accepted
 * order is stored in with `acceptedStatus`; how a look-up of an unknown
 * correlation id is answered with `absentReply`; the account's order budget
 * with `ordersPerWindow` (DH-904 beyond it). Changing `accessToken`
 * mid-test expires the old one (DH-901 for every request carrying it).
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export type FakeDhanReply =
  | "accept" // 200 { orderId, orderStatus: "TRANSIT" }, order stored as TRADED at `fillPrice`
  | "reject" // 400 DH-906 order error, nothing stored
  | "rate-limit" // 429 DH-904, nothing stored
  | "server-error" // 500 DH-908, nothing stored
  | "network-error-after-accept" // order stored, then 400 DH-909 (Dhan's own "network error": the outcome is unknown)
  | "accept-then-drop"; // order stored, connection destroyed before any reply

export interface FakeDhanOrder {
  readonly orderId: string;
  readonly correlationId: string;
  readonly body: Record<string, unknown>;
  orderStatus: string;
}

export class FakeDhanServer {
  readonly orders = new Map<string, FakeDhanOrder>();
  readonly requests: { method: string; path: string; token: string | undefined; body: string }[] = [];
  nextReplies: FakeDhanReply[] = [];
  /** Written raw into the JSON, as Dhan sends numbers. */
  fillPrice = "101.05";
  /** Status an accepted order is stored in (and looked up as): TRADED fills it whole, anything else fills nothing. */
  acceptedStatus = "TRADED";
  /** A look-up of an unknown correlation id: 404 DH-906, 400 DH-907 ("no data"), or 200 with `{}`. */
  absentReply: "404" | "no-data" | "empty-object" = "404";
  /** The account's order budget: at most `limit` POSTs in any `windowMs`; DH-904 beyond it. */
  ordersPerWindow: { limit: number; windowMs: number } | undefined;
  /** Answered with DH-904 (refused for the budget). */
  rateLimited = 0;
  private readonly acceptedAt: number[] = [];
  private server?: http.Server;
  private nextId = 1;

  constructor(public accessToken = "test-token") {}

  /** The orders POSTed (accepted or not). */
  get posts(): number {
    return this.requests.filter((request) => request.method === "POST").length;
  }

  get baseUrl(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      request.on("end", () => this.handle(request, response, body));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse, body: string) {
    const path = request.url ?? "";
    const token = request.headers["access-token"] as string | undefined;
    this.requests.push({ method: request.method ?? "", path, token, body });
    if (token !== this.accessToken)
      return json(response, 401, {
        errorType: "Invalid_Authentication",
        errorCode: "DH-901",
        errorMessage: "Client ID or user generated access token is invalid or expired.",
      });
    if (request.method === "POST" && path === "/v2/orders") return this.placeOrder(response, JSON.parse(body) as Record<string, unknown>);
    const lookup = /^\/v2\/orders\/external\/([^/]+)$/.exec(path);
    if (request.method === "GET" && lookup) {
      const order = this.orders.get(decodeURIComponent(lookup[1]!));
      if (!order && this.absentReply === "no-data")
        return json(response, 400, { errorType: "Data_Error", errorCode: "DH-907", errorMessage: "System is unable to fetch data" });
      if (!order && this.absentReply === "empty-object") return raw(response, 200, "{}");
      if (!order) return json(response, 404, { errorType: "Order_Error", errorCode: "DH-906", errorMessage: "No order found" });
      return raw(response, 200, orderJson(order, this.fillPrice));
    }
    json(response, 404, { errorCode: "DH-905", errorMessage: `no route ${request.method} ${path}` });
  }

  private placeOrder(response: http.ServerResponse, body: Record<string, unknown>) {
    if (this.ordersPerWindow) {
      const now = Date.now();
      const { limit, windowMs } = this.ordersPerWindow;
      if (this.acceptedAt.filter((t) => t > now - windowMs).length >= limit) {
        this.rateLimited++;
        return json(response, 429, { errorType: "Rate_Limit", errorCode: "DH-904", errorMessage: "Too many requests" });
      }
      this.acceptedAt.push(now);
    }
    const reply = this.nextReplies.shift() ?? "accept";
    if (reply === "reject")
      return json(response, 400, { errorType: "Order_Error", errorCode: "DH-906", errorMessage: "Order rejected: insufficient margin" });
    if (reply === "rate-limit")
      return json(response, 429, { errorType: "Rate_Limit", errorCode: "DH-904", errorMessage: "Too many requests" });
    if (reply === "server-error")
      return json(response, 500, { errorType: "Internal_Server_Error", errorCode: "DH-908", errorMessage: "internal error" });
    const order: FakeDhanOrder = {
      orderId: `11${this.nextId++}`,
      correlationId: String(body.correlationId),
      body,
      orderStatus: this.acceptedStatus,
    };
    this.orders.set(order.correlationId, order);
    if (reply === "network-error-after-accept")
      return json(response, 400, { errorType: "Network_Error", errorCode: "DH-909", errorMessage: "Network error" });
    if (reply === "accept-then-drop") {
      response.socket?.destroy();
      return;
    }
    json(response, 200, { orderId: order.orderId, orderStatus: "TRANSIT" });
  }
}

function json(response: http.ServerResponse, status: number, body: unknown): void {
  raw(response, status, JSON.stringify(body));
}

function raw(response: http.ServerResponse, status: number, text: string): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(text);
}

/** The order as Dhan's look-up returns it, with numbers written raw like the real API. */
function orderJson(order: FakeDhanOrder, fillPrice: string): string {
  const b = order.body;
  return (
    `{"dhanClientId":${JSON.stringify(b.dhanClientId)},"orderId":"${order.orderId}","correlationId":${JSON.stringify(order.correlationId)},` +
    `"orderStatus":"${order.orderStatus}","transactionType":${JSON.stringify(b.transactionType)},"exchangeSegment":${JSON.stringify(b.exchangeSegment)},` +
    `"productType":${JSON.stringify(b.productType)},"orderType":"MARKET","validity":"DAY","securityId":${JSON.stringify(b.securityId)},` +
    `"quantity":${Number(b.quantity)},"filledQty":${order.orderStatus === "TRADED" ? Number(b.quantity) : 0},"remainingQuantity":0,"price":0,` +
    `"averageTradedPrice":${order.orderStatus === "TRADED" ? fillPrice : 0},` +
    `"omsErrorCode":"","omsErrorDescription":""}`
  );
}
