/**
 * CORS for the connect engine, so a page served from another origin can call
 * it with connect-web: the origins allowed are listed (`--cors-allowed-origins`,
 * none by default); a preflight from another origin is refused with 403 and
 * its reason, and an actual request from one gets no CORS headers (the
 * browser then keeps the answer from the page). The header lists are
 * connect's own (`cors` of @connectrpc/connect), plus `authorization` for the
 * bearer token.
 */
import type * as http from "node:http";
import type * as http2 from "node:http2";
import { cors } from "@connectrpc/connect";

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;
export type NodeHandler = (request: Request, response: Response) => void;

/** Browsers may cache a preflight answer this long, s. */
const PREFLIGHT_MAX_AGE_S = 7200;
const ALLOWED_HEADERS = [...cors.allowedHeaders, "Authorization"].join(", ");

/** `origins` as configured: exact origins (`https://app.example:8443`) or `*` for any. */
export function withCors(handler: NodeHandler, origins: readonly string[]): NodeHandler {
  const any = origins.includes("*");
  const allowed = new Set(origins);
  return (request, response) => {
    const origin = request.headers.origin;
    if (typeof origin !== "string") return handler(request, response);
    const permitted = any || allowed.has(origin);
    const preflight = request.method === "OPTIONS" && request.headers["access-control-request-method"] !== undefined;
    if (permitted) {
      response.setHeader("Access-Control-Allow-Origin", any ? "*" : origin);
      if (!any) response.setHeader("Vary", "Origin");
    }
    if (!preflight) {
      if (permitted) response.setHeader("Access-Control-Expose-Headers", cors.exposedHeaders.join(", "));
      return handler(request, response);
    }
    if (!permitted) {
      response.statusCode = 403;
      response.setHeader("Content-Type", "text/plain; charset=utf-8");
      response.end(`origin ${origin.slice(0, 200)} is not allowed: list it in --cors-allowed-origins (TRADINGCORE_CORS_ALLOWED_ORIGINS)\n`);
      return;
    }
    response.statusCode = 204;
    response.setHeader("Access-Control-Allow-Methods", cors.allowedMethods.join(", "));
    response.setHeader("Access-Control-Allow-Headers", ALLOWED_HEADERS);
    response.setHeader("Access-Control-Max-Age", String(PREFLIGHT_MAX_AGE_S));
    response.end();
  };
}
