/**
 * The simulator's control API, for rehearsals and for tests in another
 * process: JSON over HTTP under `/sim/`, beside Dhan's own paths.
 *
 * - `GET  /sim/orders`: every order with its state now.
 * - `POST /sim/next-outcomes` `{"outcomes":["reject","fill",{"status":"TRIGGERED"}]}`: what the next accepted orders do.
 * - `POST /sim/next-faults` `{"faults":["none","rate-limit"]}`: what the next order POSTs meet.
 * - `POST /sim/absent-reply` `{"reply":"404"|"no-data"|"empty-object"}`: how a look-up answers an order it does not know.
 * - `POST /sim/tick` `{"exchangeSegment":"NSE_EQ","securityId":"1333","ltp":"1601.35"}`.
 * - `POST /sim/expire-token`, `POST /sim/renew-token` `{"token":"…","ttlMs":86400000}`.
 * - `POST /sim/feeds` `{"orderUpdate":"down"|"up","marketFeed":"down"|"up"}`: an outage cuts every connection and refuses new ones.
 * - `POST /sim/advance` `{"ms":500}`: only on a manual clock.
 * Anything else is 404; a bad body is 400 with the reason.
 */
import type * as http from "node:http";
import { ABSENT_ORDER_REPLIES, PLACEMENT_FAULTS } from "./sim-account.js";
import type { DhanSimulator } from "./dhan-simulator.js";
import { ORDER_OUTCOMES, type OrderOutcome, stepAt } from "./sim-order-book.js";

export function handleControl(sim: DhanSimulator, method: string, url: URL, body: string, response: http.ServerResponse) {
  let fields: Record<string, unknown> = {};
  if (body.trim() !== "") {
    try {
      fields = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return answer(response, 400, { error: "body is not JSON" });
    }
  }
  const route = `${method} ${url.pathname}`;
  try {
    switch (route) {
      case "GET /sim/orders":
        return answer(response, 200, {
          orders: sim.orders.all().map((order) => ({ orderId: order.orderId, ...order.request, ...stepAt(order, sim.clock.now()) })),
        });
      case "POST /sim/next-outcomes":
        sim.nextOutcomes.push(...outcomesOf(fields.outcomes));
        return answer(response, 200, { nextOutcomes: sim.nextOutcomes });
      case "POST /sim/next-faults":
        sim.nextFaults.push(...listOf(fields.faults, PLACEMENT_FAULTS, "faults"));
        return answer(response, 200, { nextFaults: sim.nextFaults });
      case "POST /sim/absent-reply":
        if (!ABSENT_ORDER_REPLIES.includes(fields.reply as never))
          throw new Error(`reply must be one of ${ABSENT_ORDER_REPLIES.join(", ")}`);
        sim.absentReply = fields.reply as DhanSimulator["absentReply"];
        return answer(response, 200, { absentReply: sim.absentReply });
      case "POST /sim/tick":
        if (!/^\d+(\.\d+)?$/.test(String(fields.ltp))) throw new Error("ltp must be a decimal string");
        sim.tick(String(fields.exchangeSegment), String(fields.securityId), String(fields.ltp));
        return answer(response, 200, {});
      case "POST /sim/expire-token":
        sim.account.expireToken();
        return answer(response, 200, {});
      case "POST /sim/renew-token":
        if (typeof fields.token !== "string" || fields.token === "") throw new Error("token is required");
        sim.account.renewToken(fields.token, typeof fields.ttlMs === "number" ? fields.ttlMs : undefined);
        return answer(response, 200, {});
      case "POST /sim/feeds":
        setFeed(sim, "orderUpdate", fields.orderUpdate);
        setFeed(sim, "marketFeed", fields.marketFeed);
        return answer(response, 200, { orderUpdate: sim.orderFeed.down ? "down" : "up", marketFeed: sim.marketFeed.down ? "down" : "up" });
      case "POST /sim/advance":
        if (typeof fields.ms !== "number" || fields.ms < 0) throw new Error("ms must be a non-negative number");
        sim.advance(fields.ms);
        return answer(response, 200, { nowMs: sim.clock.now() });
      default:
        return answer(response, 404, { error: `no control route ${route}` });
    }
  } catch (error) {
    return answer(response, 400, { error: error instanceof Error ? error.message : String(error) });
  }
}

function setFeed(sim: DhanSimulator, feed: "orderUpdate" | "marketFeed", value: unknown): void {
  if (value === undefined) return;
  if (value !== "up" && value !== "down") throw new Error(`${feed} must be "up" or "down"`);
  if (feed === "orderUpdate") sim.setOrderFeedDown(value === "down");
  else sim.setMarketFeedDown(value === "down");
}

/** Outcome names, or `{"status":"…"}` for an order held in a status of its own (upper case, as the REST API writes it). */
function outcomesOf(value: unknown): OrderOutcome[] {
  const valid = (entry: unknown) =>
    (ORDER_OUTCOMES as readonly unknown[]).includes(entry) ||
    (typeof entry === "object" && entry !== null && /^[A-Z][A-Z_]{0,29}$/.test(String((entry as { status?: unknown }).status)));
  if (!Array.isArray(value) || !value.every(valid))
    throw new Error(`outcomes must be a list of ${ORDER_OUTCOMES.join(", ")} or {"status":"<STATUS>"}`);
  return value.map((entry) => (typeof entry === "string" ? (entry as OrderOutcome) : { status: (entry as { status: string }).status }));
}

function listOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T[] {
  if (!Array.isArray(value) || value.some((entry) => !allowed.includes(entry as T)))
    throw new Error(`${field} must be a list of ${allowed.join(", ")}`);
  return value as T[];
}

function answer(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}
