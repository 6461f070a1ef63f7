/**
 * The parsers of configuration values: each turns a flag's or variable's text
 * into a typed value or throws an Error that says what is wrong with it (the
 * loader adds the setting's name).
 */
import { isIP, isIPv6 } from "node:net";
import { sessionEndDefaultsOf } from "./protection/time-rules.js";

/** Reads one setting's text; throws an Error saying what is wrong with it. */
export type Parser<T> = (text: string) => T;

export const integer =
  (min: number, max: number): Parser<number> =>
  (text) => {
    if (!/^\d+$/.test(text.trim())) throw new Error(`"${text}" is not a whole number`);
    const value = Number(text);
    if (value < min || value > max) throw new Error(`${value} is outside ${min}..${max}`);
    return value;
  };

export const rate: Parser<number> = (text) => {
  if (!/^(0(\.\d+)?|1(\.0+)?)$/.test(text.trim())) throw new Error(`"${text}" is not a rate between 0 and 1`);
  return Number(text);
};

export const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (text) => {
    if (!values.includes(text as T)) throw new Error(`"${text}" is not one of ${values.join(", ")}`);
    return text as T;
  };

export const text: Parser<string> = (value) => value;

/**
 * An address to listen on: a host name, an IPv4 address, or an IPv6 address with or without
 * brackets (`::1`, `[::1]`), returned bare; a port or anything else is refused here, not at listen.
 */
export const listenHost: Parser<string> = (value) => {
  const bracketed = value.startsWith("[") && value.endsWith("]");
  const bare = bracketed ? value.slice(1, -1) : value;
  if (isIPv6(bare)) return bare;
  if (bracketed) throw new Error(`"${value}" is not an IPv6 address in brackets`);
  if (bare.includes(":")) throw new Error(`"${value}" is not an IPv6 address (give the port with --port, not in the host)`);
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(bare) || (isIP(bare) === 0 && /^[\d.]+$/.test(bare))) {
    throw new Error(`"${value}" is not a host name or an IP address`);
  }
  return bare;
};

export const bool: Parser<boolean> = (value) => {
  const normal = value.trim().toLowerCase();
  if (["true", "1", "yes"].includes(normal)) return true;
  if (["false", "0", "no"].includes(normal)) return false;
  throw new Error(`"${value}" is not true or false`);
};

export const url: Parser<string> = (value) => {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new Error(`"${value}" is not a URL`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new Error(`"${value}" is not an http(s) URL`);
  return value;
};

export const redisUrl: Parser<string> = (value) => {
  let parsed: URL;
  try {
    parsed = new URL(value.trim());
  } catch {
    throw new Error(`"${value}" is not a URL`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")
    throw new Error(`"${parsed.protocol}//…" is not a redis:// or rediss:// URL`);
  if (!parsed.hostname) throw new Error("the URL names no host");
  return value.trim();
};

export const redisUrls: Parser<string[]> = (value) => {
  const urls = value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  if (urls.length === 0) throw new Error("no URL given");
  return urls.map((url, i) => {
    try {
      return redisUrl(url);
    } catch (error) {
      throw new Error(`URL ${i + 1}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
};

/** Comma-separated browser origins (`scheme://host[:port]`, no path), or `*` for any. */
export const origins: Parser<string[]> = (value) => {
  const parts = value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  return parts.map((part, i) => {
    if (part === "*") return part;
    let parsed: URL;
    try {
      parsed = new URL(part);
    } catch {
      throw new Error(`origin ${i + 1} (${part.slice(0, 80)}) is not a URL like https://app.example`);
    }
    if ((parsed.protocol !== "http:" && parsed.protocol !== "https:") || parsed.origin !== part)
      throw new Error(`origin ${i + 1} (${part.slice(0, 80)}) must be scheme://host[:port] with nothing after it (${parsed.origin})`);
    return part;
  });
};

/** Comma-separated `SEGMENT=HH:MM@Time/Zone` entries (the session-end defaults); `none` or empty for none. */
export const sessionEnds: Parser<string[]> = (value) => {
  const entries = value.trim() === "" || value.trim() === "none" ? [] : value.split(",").map((entry) => entry.trim());
  sessionEndDefaultsOf(entries);
  return entries;
};
