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
 * - Reading the header costs time linear in its length, and a header longer
 *   than MAX_AUTHORIZATION_CHARS is refused before it is read: a caller with
 *   no token cannot make the check expensive. (A backtracking regular
 *   expression here once cost seconds of CPU per call on a header padded
 *   with whitespace, stalling every other call.)
 * - Several `authorization` values (both engines present them joined with
 *   ", ") never match, whichever of them carries the token.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { TradingCoreError } from "../../domain/trading-core-error.js";
import type { CallMiddleware } from "../../rpc/call-middleware.js";

/** Longest `authorization` value read, characters; longer ones answer UNAUTHENTICATED unread. */
export const MAX_AUTHORIZATION_CHARS = 8192;

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
    const header = call.headers.get("authorization");
    if (header !== undefined && header.length > MAX_AUTHORIZATION_CHARS) {
      throw new TradingCoreError("unauthenticated", `the authorization header is longer than ${MAX_AUTHORIZATION_CHARS} characters`);
    }
    const presented = bearerTokenOf(header);
    if (presented === undefined) {
      throw new TradingCoreError("unauthenticated", "missing bearer token: send the metadata authorization: Bearer <token>");
    }
    if (!timingSafeEqual(digest(presented), expected)) throw new TradingCoreError("unauthenticated", "invalid bearer token");
    return next();
  };
}

/**
 * The token of an `authorization: Bearer <token>` header (scheme
 * case-insensitive, spaces around the token ignored), or undefined.
 *
 * A value with any character but printable ASCII and space (a TAB, a
 * control character, anything non-ASCII) has no token: grpc-js drops such a
 * value before we see it, so refusing it here keeps both engines alike.
 * A few linear passes at most: a one-class scan, trim, a fixed-length scheme
 * check, trim.
 */
export function bearerTokenOf(header: string | undefined): string | undefined {
  if (header === undefined || /[^\x20-\x7e]/.test(header)) return undefined;
  const trimmed = header.trim();
  const scheme = "bearer";
  if (trimmed.length <= scheme.length + 1 || trimmed.slice(0, scheme.length).toLowerCase() !== scheme) return undefined;
  if (trimmed.charAt(scheme.length) !== " ") return undefined;
  const token = trimmed.slice(scheme.length + 1).trimStart();
  return token === "" ? undefined : token;
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
