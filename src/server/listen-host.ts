/**
 * The listen address in the two forms the engines need: bare for node's
 * `listen()` (`::1`) and bracketed inside a `host:port` target (`[::1]:50051`,
 * what grpc-js parses and what clients dial). Accepts either form as input.
 */
import { isIPv6 } from "node:net";

/** `host` without the brackets of a bracketed IPv6 address (`[::1]` → `::1`); other hosts unchanged. */
export function bareHost(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** `host:port`, with an IPv6 address in brackets. */
export function hostPort(host: string, port: number): string {
  const bare = bareHost(host);
  return `${isIPv6(bare) ? `[${bare}]` : bare}:${port}`;
}
