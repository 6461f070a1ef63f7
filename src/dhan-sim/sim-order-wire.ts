/**
 * The simulator's order API on the wire: an order POST's body read into a
 * request, an order written as Dhan's look-ups return it (numbers raw, as
 * Dhan writes them, times in IST without a zone), and Dhan's error bodies.
 */
import type * as http from "node:http";
import { epochMsToIst } from "../router/dhan-order-alert.js";
import type { DhanErrorReply } from "./sim-account.js";
import { type SimOrder, type SimOrderRequest, stepAt } from "./sim-order-book.js";

/** The order a POST body asks for, or undefined when it is not one (answered DH-905). */
export function requestOf(body: string): SimOrderRequest | undefined {
  try {
    const fields = JSON.parse(body) as Record<string, unknown>;
    const quantity = Number(fields.quantity);
    if (!Number.isInteger(quantity) || quantity <= 0 || typeof fields.securityId !== "string" || typeof fields.transactionType !== "string")
      return undefined;
    return {
      dhanClientId: String(fields.dhanClientId ?? ""),
      correlationId: String(fields.correlationId ?? ""),
      transactionType: fields.transactionType,
      exchangeSegment: String(fields.exchangeSegment ?? ""),
      productType: String(fields.productType ?? ""),
      orderType: String(fields.orderType ?? ""),
      validity: String(fields.validity ?? ""),
      securityId: fields.securityId,
      quantity,
    };
  } catch {
    return undefined;
  }
}

/** The order as Dhan's order look-ups return it, numbers written raw like the real API. */
export function orderJson(order: SimOrder, nowMs: number): string {
  const step = stepAt(order, nowMs);
  const request = order.request;
  const average = step.tradedQuantity > 0 ? order.fillPrice : "0";
  const refused = step.status === "REJECTED" || step.status === "CANCELLED";
  return (
    `{"dhanClientId":${JSON.stringify(request.dhanClientId)},"orderId":"${order.orderId}","exchangeOrderId":"${order.exchangeOrderId}",` +
    `"correlationId":${JSON.stringify(request.correlationId)},"orderStatus":"${step.status}",` +
    `"transactionType":${JSON.stringify(request.transactionType)},"exchangeSegment":${JSON.stringify(request.exchangeSegment)},` +
    `"productType":${JSON.stringify(request.productType)},"orderType":${JSON.stringify(request.orderType)},"validity":${JSON.stringify(request.validity)},` +
    `"securityId":${JSON.stringify(request.securityId)},"quantity":${request.quantity},"disclosedQuantity":0,"price":0,"triggerPrice":0,` +
    `"afterMarketOrder":false,"createTime":"${epochMsToIst(order.createdAtMs)}","updateTime":"${epochMsToIst(step.atMs)}",` +
    `"omsErrorCode":"${refused ? "RMS" : ""}","omsErrorDescription":${JSON.stringify(refused ? step.reason : "")},` +
    `"remainingQuantity":${request.quantity - step.tradedQuantity},"averageTradedPrice":${average},"filledQty":${step.tradedQuantity}}`
  );
}

export function reply(response: http.ServerResponse, error: DhanErrorReply): void {
  raw(response, error.status, JSON.stringify(error.body));
}

export function raw(response: http.ServerResponse, status: number, text: string): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(text);
}
