/**
 * Bearer-token auth as call middleware, the same on every engine.
 *
 * Guarantees:
 * - A call runs only if its `authorization` header is `Bearer <token>` with
 *   exactly the configured token; otherwise it answers UNAUTHENTICATED and
 *   the handler never runs.
 * - The comparison takes the same time wherever the first difference is
 *   (both sides are hashed to equal-length digests, then compared with
 *   crypto.timingSafeEqual), so the token cannot be guessed byte by byte.
 * - Neither the expected nor the presented token is logged or put in an
 *   error message.
 * - Services listed in `openServices` (health and reflection, by setting)
 *   answer without a token.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { CallMiddleware } from "./call-middleware.js";

export interface BearerAuthOptions {
  /** The shared secret; must not be empty. */
  readonly token: string;
  /** Fully-qualified services that need no token. */
  readonly openServices?: readonly string[];
}

export function bearerAuthMiddleware(options: BearerAuthOptions): CallMiddleware {
  if (options.token === "") throw new Error("bearer auth needs a non-empty token");
  const expected = digest(options.token);
  const open = new Set(options.openServices ?? []);
  return async (call, next) => {
    if (open.has(call.service)) return next();
    const presented = bearerTokenOf(call.headers.get("authorization"));
    if (presented === undefined) {
      throw new TradingCoreError("unauthenticated", "missing bearer token: send the metadata authorization: Bearer <token>");
    }
    if (!timingSafeEqual(digest(presented), expected)) throw new TradingCoreError("unauthenticated", "invalid bearer token");
    return next();
  };
}

/** The token of an `authorization: Bearer <token>` header (scheme case-insensitive), or undefined. */
export function bearerTokenOf(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^\s*bearer\s+(.+?)\s*$/i.exec(header);
  return match?.[1];
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
