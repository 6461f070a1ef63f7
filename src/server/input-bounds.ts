/**
 * The bound of every field of every request message the server reads, in
 * one table, and the check that holds a decoded request to it before any
 * handler sees it (request-guard.ts applies it to every RPC on every engine).
 *
 * Invariants:
 * - Complete by construction: the checker of a message type is compiled from
 *   its descriptor, and a string, bytes, repeated or map field with no entry
 *   here makes compiling throw, so the server does not start (and the tests
 *   fail) with a field nobody bounded.
 * - Lengths are JavaScript string lengths (UTF-16 code units: a character of
 *   the Basic Multilingual Plane counts one, any other two).
 * - A string holding U+FFFD is refused as not valid UTF-8: it is what invalid
 *   bytes decode to when a decoder substitutes them (the connect engine's
 *   decoding, a JSON body), so the check cannot tell the two apart.
 * - A problem names the field by its path in the request (`ticks[3].ltp`)
 *   and quotes input only as a bounded, escaped excerpt.
 */
import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { MAX_DECIMAL_LENGTH } from "../domain/money.js";
import { excerpt } from "../domain/text-excerpt.js";
import { MAX_ORDER_NO_LENGTH, MAX_REASON_LENGTH } from "../exit/exit-command.js";

export interface FieldBound {
  /** Longest string: the field's value, each element of a repeated field, each value of a map. */
  readonly characters?: number;
  /** Most elements of a repeated field or entries of a map. */
  readonly entries?: number;
  /** Longest key of a map. */
  readonly keyCharacters?: number;
}

export const MAX_SECURITY_ID_LENGTH = 32;
export const MAX_SYMBOL_LENGTH = 64;
export const MAX_META_ENTRIES = 32;
export const MAX_META_KEY_LENGTH = 64;
export const MAX_META_VALUE_LENGTH = 256;
/** Broker correlation ids are at most 25 characters (Dhan); ours are too. The rest is room for other brokers. */
export const MAX_CORRELATION_ID_LENGTH = 64;
export const MAX_BROKER_ORDER_ID_LENGTH = 64;
/** Page tokens this server issues are base64url of "after:" and an order_no: at most 94 characters. */
export const MAX_PAGE_TOKEN_LENGTH = 128;
export const MAX_INSTRUMENTS_PER_CALL = 1000;
/** Ticks in one PublishTicks message; a feed sends more as more messages on the same stream. */
export const MAX_TICKS_PER_MESSAGE = 10_000;
export const MAX_HEALTH_SERVICE_NAME_LENGTH = 256;

const ORDER_NO = { characters: MAX_ORDER_NO_LENGTH };
const REASON = { characters: MAX_REASON_LENGTH };
const DECIMAL = { characters: MAX_DECIMAL_LENGTH };

/** Every bounded field, `message type.field name`. The README's "Limits" section lists the same. */
export const INPUT_BOUNDS: Readonly<Record<string, FieldBound>> = {
  "tradingcore.v1.RegisterTrackerRequest.order_no": ORDER_NO,
  "tradingcore.v1.RegisterTrackerRequest.security_id": { characters: MAX_SECURITY_ID_LENGTH },
  "tradingcore.v1.RegisterTrackerRequest.symbol": { characters: MAX_SYMBOL_LENGTH },
  "tradingcore.v1.RegisterTrackerRequest.quantity": DECIMAL,
  "tradingcore.v1.RegisterTrackerRequest.entry_price": DECIMAL,
  "tradingcore.v1.RegisterTrackerRequest.meta": { entries: MAX_META_ENTRIES, keyCharacters: MAX_META_KEY_LENGTH, characters: MAX_META_VALUE_LENGTH },
  "tradingcore.v1.GetTrackerRequest.order_no": ORDER_NO,
  "tradingcore.v1.ListTrackersRequest.page_token": { characters: MAX_PAGE_TOKEN_LENGTH },
  "tradingcore.v1.ExecuteExitRequest.order_no": ORDER_NO,
  "tradingcore.v1.ExecuteExitRequest.reason": REASON,
  "tradingcore.v1.ExitAllRequest.reason": REASON,
  "tradingcore.v1.ApplyOrderUpdateRequest.correlation_id": { characters: MAX_CORRELATION_ID_LENGTH },
  "tradingcore.v1.ApplyOrderUpdateRequest.order_id": { characters: MAX_BROKER_ORDER_ID_LENGTH },
  "tradingcore.v1.ApplyOrderUpdateRequest.traded_quantity": DECIMAL,
  "tradingcore.v1.ApplyOrderUpdateRequest.average_price": DECIMAL,
  "tradingcore.v1.WatchExitsRequest.order_no": ORDER_NO,
  "tradingcore.v1.Instrument.security_id": { characters: MAX_SECURITY_ID_LENGTH },
  "tradingcore.v1.Tick.ltp": DECIMAL,
  "tradingcore.v1.PublishTicksRequest.ticks": { entries: MAX_TICKS_PER_MESSAGE },
  "tradingcore.v1.GetLtpsRequest.instruments": { entries: MAX_INSTRUMENTS_PER_CALL },
  "tradingcore.v1.StreamLtpRequest.instruments": { entries: MAX_INSTRUMENTS_PER_CALL },
  "grpc.health.v1.HealthCheckRequest.service": { characters: MAX_HEALTH_SERVICE_NAME_LENGTH },
};

// biome-ignore lint/suspicious/noExplicitAny: messages are read by field name, as protobuf-es itself does.
type AnyMessage = any;
/** The first problem of a message at `path` ("" for the request itself), or undefined. */
export type MessageCheck = (message: AnyMessage, path: string) => string | undefined;

const REPLACEMENT_CHARACTER = "\uFFFD";
const compiled = new WeakMap<DescMessage, MessageCheck>();

/** The check of `schema` messages; throws when a field of it (or of a message inside it) has no bound. */
export function messageCheck(schema: DescMessage, bounds: Readonly<Record<string, FieldBound>> = INPUT_BOUNDS): MessageCheck {
  const known = compiled.get(schema);
  if (known && bounds === INPUT_BOUNDS) return known;
  let checks: MessageCheck[] = [];
  const check: MessageCheck = (message, path) => {
    for (const each of checks) {
      const problem = each(message, path);
      if (problem) return problem;
    }
    return undefined;
  };
  // Registered before its fields are compiled, so a recursive message type finds it.
  if (bounds === INPUT_BOUNDS) compiled.set(schema, check);
  checks = schema.fields.map((field) => fieldCheck(field, bounds)).filter((each): each is MessageCheck => each !== undefined);
  return check;
}

function fieldCheck(field: DescField, bounds: Readonly<Record<string, FieldBound>>): MessageCheck | undefined {
  const name = field.localName;
  const pathOf = (path: string) => (path === "" ? field.name : `${path}.${field.name}`);
  const bound = () => {
    const found = bounds[`${field.parent.typeName}.${field.name}`];
    if (!found) throw new Error(`no input bound for ${field.parent.typeName}.${field.name}: add it to INPUT_BOUNDS`);
    return found;
  };
  switch (field.fieldKind) {
    case "enum":
      return undefined;
    case "scalar": {
      if (!isText(field.scalar)) return undefined;
      const max = required(bound().characters, field, "characters");
      return (message, path) => textProblem(message[name], max, pathOf(path));
    }
    case "message": {
      const inner = messageCheck(field.message, bounds);
      return (message, path) => (message[name] === undefined ? undefined : inner(message[name], pathOf(path)));
    }
    case "list": {
      const { entries, characters } = bound();
      const maxEntries = required(entries, field, "entries");
      const element = field.listKind === "message" ? messageCheck(field.message, bounds) : undefined;
      const maxCharacters = field.listKind === "scalar" && isText(field.scalar) ? required(characters, field, "characters") : undefined;
      return (message, path) => {
        const list: unknown[] = message[name];
        if (list.length > maxEntries) return `${pathOf(path)} has more than ${maxEntries} entries`;
        for (let index = 0; index < list.length; index++) {
          const at = `${pathOf(path)}[${index}]`;
          const problem = element ? element(list[index], at) : maxCharacters !== undefined ? textProblem(list[index], maxCharacters, at) : undefined;
          if (problem) return problem;
        }
        return undefined;
      };
    }
    case "map": {
      const { entries, keyCharacters, characters } = bound();
      const maxEntries = required(entries, field, "entries");
      const maxKey = isText(field.mapKey) ? required(keyCharacters, field, "keyCharacters") : undefined;
      const value = field.mapKind === "message" ? messageCheck(field.message, bounds) : undefined;
      const maxValue = field.mapKind === "scalar" && isText(field.scalar) ? required(characters, field, "characters") : undefined;
      return (message, path) => {
        const map: Record<string, unknown> = message[name];
        const keys = Object.keys(map);
        if (keys.length > maxEntries) return `${pathOf(path)} has more than ${maxEntries} entries`;
        for (const key of keys) {
          if (maxKey !== undefined) {
            const keyProblem = textProblem(key, maxKey, `${pathOf(path)} key ${excerpt(key)}`);
            if (keyProblem) return keyProblem;
          }
          const at = `${pathOf(path)}[${excerpt(key)}]`;
          const problem = value ? value(map[key], at) : maxValue !== undefined ? textProblem(map[key], maxValue, at) : undefined;
          if (problem) return problem;
        }
        return undefined;
      };
    }
  }
}

function textProblem(value: unknown, max: number, path: string): string | undefined {
  if (typeof value === "string") {
    if (value.length > max) return `${path} is longer than ${max} characters (${value.length})`;
    if (value.includes(REPLACEMENT_CHARACTER)) return `${path} is not valid UTF-8 (invalid bytes, or U+FFFD, which they decode to)`;
    return undefined;
  }
  if (value instanceof Uint8Array && value.length > max) return `${path} is longer than ${max} bytes (${value.length})`;
  return undefined;
}

/** The scalars whose size the caller chooses. */
function isText(scalar: ScalarType | undefined): boolean {
  return scalar === ScalarType.STRING || scalar === ScalarType.BYTES;
}

function required(value: number | undefined, field: DescField, what: keyof FieldBound): number {
  if (value === undefined) throw new Error(`the input bound of ${field.parent.typeName}.${field.name} needs ${what}`);
  return value;
}
