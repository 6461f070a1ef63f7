/**
 * The simulator's live order update feed: a client logs in with the
 * documented message (MsgCode 42, its client id and token, UserType SELF)
 * and then receives one `{"Type":"order_alert","Data":{…}}` per state change
 * of every order of the account. A socket that has not logged in within
 * `loginTimeoutMs`, or logs in with a wrong or expired token, is closed.
 * While the feed is `down`, connections are refused and alerts are lost, as
 * in an outage: a client learns what it missed only by looking orders up.
 */
import type { WebSocket, WebSocketServer } from "ws";
import { epochMsToIst } from "../router/dhan-order-alert.js";
import type { SimAccount } from "./sim-account.js";
import type { SimOrder, SimOrderStatus, SimStep } from "./sim-order-book.js";

/** The feed's spelling of the REST API's statuses; any other is written the same way (`TRIGGERED` → `Triggered`). */
const FEED_STATUS: Record<SimOrderStatus, string> = {
  TRANSIT: "Transit",
  PENDING: "Pending",
  PART_TRADED: "Part_Traded",
  TRADED: "Traded",
  REJECTED: "Rejected",
  CANCELLED: "Cancelled",
};
const PRODUCT_CODE: Record<string, string> = { INTRADAY: "I", CNC: "C", MARGIN: "M", MTF: "F", CO: "V", BO: "B" };
const EXCHANGE_OF: Record<string, readonly [string, string]> = {
  NSE_EQ: ["NSE", "E"],
  NSE_FNO: ["NSE", "D"],
  NSE_CURRENCY: ["NSE", "C"],
  BSE_EQ: ["BSE", "E"],
  BSE_FNO: ["BSE", "D"],
  BSE_CURRENCY: ["BSE", "C"],
  MCX_COMM: ["MCX", "M"],
};

export class SimOrderFeed {
  private readonly loggedIn = new Set<WebSocket>();
  /** Alerts pushed, in total (a test's measure that the feed, not a look-up, carried them). */
  alertsSent = 0;
  down = false;

  constructor(
    private readonly server: WebSocketServer,
    private readonly account: SimAccount,
    private readonly loginTimeoutMs = 5_000,
  ) {
    server.on("connection", (socket) => this.accept(socket));
  }

  get clients(): number {
    return this.loggedIn.size;
  }

  /** Pushes one alert for `step` of `order` to every logged-in client (none while down). */
  push(order: SimOrder, step: SimStep): void {
    if (this.down) return;
    const text = alertJson(order, step, this.account.clientId);
    for (const socket of this.loggedIn) {
      socket.send(text);
      this.alertsSent++;
    }
  }

  /** Cuts every connection without a close handshake, as a network failure does. */
  dropAll(): void {
    for (const socket of this.server.clients) socket.terminate();
    this.loggedIn.clear();
  }

  private accept(socket: WebSocket): void {
    if (this.down) {
      socket.terminate();
      return;
    }
    const timer = setTimeout(() => socket.close(1008, "no login"), this.loginTimeoutMs);
    timer.unref();
    socket.once("message", (data, isBinary) => {
      clearTimeout(timer);
      const login = isBinary ? undefined : loginOf(String(data));
      if (!login || login.clientId !== this.account.clientId || !this.account.accepts(login.token)) {
        socket.close(1008, "login refused: client id or access token invalid or expired");
        return;
      }
      this.loggedIn.add(socket);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      this.loggedIn.delete(socket);
    });
    socket.on("error", () => socket.terminate());
  }
}

function loginOf(text: string): { clientId: string; token: string } | undefined {
  try {
    const message = JSON.parse(text) as { LoginReq?: { MsgCode?: unknown; ClientId?: unknown; Token?: unknown }; UserType?: unknown };
    if (message.LoginReq?.MsgCode !== 42 || message.UserType !== "SELF") return undefined;
    return { clientId: String(message.LoginReq.ClientId ?? ""), token: String(message.LoginReq.Token ?? "") };
  } catch {
    return undefined;
  }
}

/** One alert, numbers written raw as Dhan writes them. */
export function alertJson(order: SimOrder, step: SimStep, clientId: string): string {
  const request = order.request;
  const [exchange, segment] = EXCHANGE_OF[request.exchangeSegment] ?? ["NSE", "E"];
  const traded = step.tradedQuantity;
  const price = traded > 0 ? order.fillPrice : "0";
  const data =
    `{"Exchange":"${exchange}","Segment":"${segment}","Source":"P","SecurityId":${JSON.stringify(request.securityId)},` +
    `"ClientId":${JSON.stringify(clientId)},"ExchOrderNo":"${order.exchangeOrderId}","OrderNo":"${order.orderId}",` +
    `"Product":"${PRODUCT_CODE[request.productType] ?? "I"}","TxnType":"${request.transactionType === "SELL" ? "S" : "B"}",` +
    `"OrderType":"${request.orderType === "LIMIT" ? "LMT" : "MKT"}","Validity":${JSON.stringify(request.validity)},` +
    `"Quantity":${request.quantity},"TradedQty":${traded},"RemainingQuantity":${request.quantity - traded},` +
    `"Price":0,"TriggerPrice":0,"TradedPrice":${price},"AvgTradedPrice":${price},` +
    `"OrderDateTime":"${epochMsToIst(order.createdAtMs)}","ExchOrderTime":"${epochMsToIst(order.createdAtMs)}",` +
    `"LastUpdatedTime":"${epochMsToIst(step.atMs)}","Remarks":"","ReasonDescription":${JSON.stringify(step.reason)},` +
    `"Status":${JSON.stringify(feedStatusOf(step.status))},"CorrelationId":${JSON.stringify(request.correlationId)}}`;
  return `{"Data":${data},"Type":"order_alert"}`;
}

function feedStatusOf(status: string): string {
  return (
    FEED_STATUS[status as SimOrderStatus] ??
    status
      .toLowerCase()
      .split("_")
      .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
      .join("_")
  );
}
