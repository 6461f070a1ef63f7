import { invalid } from "./request-parsing.js";

/** Page tokens are opaque to callers: base64url of the last order_no of the previous page. */
export function encodePageToken(lastOrderNo: string): string {
  return Buffer.from(`after:${lastOrderNo}`, "utf8").toString("base64url");
}

export function decodePageToken(token: string): string | undefined {
  if (token === "") return undefined;
  const decoded = Buffer.from(token, "base64url").toString("utf8");
  if (!decoded.startsWith("after:") || encodePageToken(decoded.slice(6)) !== token)
    throw invalid("page_token is not a token this server issued");
  return decoded.slice(6);
}

/** QueryExits page tokens: base64url of the last trail sequence the previous page scanned. */
export function encodeTrailPageToken(afterSequence: bigint): string {
  return Buffer.from(`trail:${afterSequence}`, "utf8").toString("base64url");
}

export function decodeTrailPageToken(token: string): bigint | undefined {
  if (token === "") return undefined;
  const decoded = Buffer.from(token, "base64url").toString("utf8");
  const match = /^trail:(-1|0|[1-9][0-9]{0,19})$/.exec(decoded);
  if (!match || encodeTrailPageToken(BigInt(match[1]!)) !== token) throw invalid("page_token is not a token this server issued");
  return BigInt(match[1]!);
}
