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
