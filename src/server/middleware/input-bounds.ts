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
import { MAX_DECIMAL_LENGTH } from "../../domain/money.js";
import { excerpt } from "../../domain/text-excerpt.js";
import { MAX_ORDER_NO_LENGTH, MAX_REASON_LENGTH } from "../../exit/exit-command.js";

export interface FieldBound {
  /** Longest string: the field's value, each element of a repeated field, each value of a map. */
  readonly characters?: number;
  /** Most elements of a repeated field or entries of a map. */
  readonly entries?: number;
  /** Longest key of a map. */
  readonly keyCharacters?: number;
}

type Bounds = Readonly<Record<string, FieldBound>>;

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
/** "HH:MM". */
export const MAX_LOCAL_TIME_LENGTH = 5;
/** The longest IANA zone names are about 30 characters ("America/Argentina/ComodRivadavia"). */
export const MAX_TIME_ZONE_LENGTH = 64;

const ORDER_NO = { characters: MAX_ORDER_NO_LENGTH };
const REASON = { characters: MAX_REASON_LENGTH };
const DECIMAL = { characters: MAX_DECIMAL_LENGTH };

/** Every bounded field, `message type.field name`. The README's "Limits" section lists the same. */
export const INPUT_BOUNDS: Bounds = {
  "tradingcore.v1.RegisterTrackerRequest.order_no": ORDER_NO,
  "tradingcore.v1.RegisterTrackerRequest.security_id": { characters: MAX_SECURITY_ID_LENGTH },
  "tradingcore.v1.RegisterTrackerRequest.symbol": { characters: MAX_SYMBOL_LENGTH },
  "tradingcore.v1.RegisterTrackerRequest.quantity": DECIMAL,
  "tradingcore.v1.RegisterTrackerRequest.entry_price": DECIMAL,
  "tradingcore.v1.RegisterTrackerRequest.meta": {
    entries: MAX_META_ENTRIES,
    keyCharacters: MAX_META_KEY_LENGTH,
    characters: MAX_META_VALUE_LENGTH,
  },
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
  "tradingcore.v1.UpdateExitPlanRequest.order_no": ORDER_NO,
  "tradingcore.v1.PriceLevel.price": DECIMAL,
  "tradingcore.v1.PriceLevel.points": DECIMAL,
  "tradingcore.v1.PriceLevel.percent": DECIMAL,
  "tradingcore.v1.PriceDistance.points": DECIMAL,
  "tradingcore.v1.PriceDistance.percent": DECIMAL,
  "tradingcore.v1.TrailingStop.step": DECIMAL,
  "tradingcore.v1.PeakDrawdown.give_back_percent": DECIMAL,
  "tradingcore.v1.SessionEnd.local_time": { characters: MAX_LOCAL_TIME_LENGTH },
  "tradingcore.v1.SessionEnd.time_zone": { characters: MAX_TIME_ZONE_LENGTH },
  "grpc.health.v1.HealthCheckRequest.service": { characters: MAX_HEALTH_SERVICE_NAME_LENGTH },
};

// biome-ignore lint/suspicious/noExplicitAny: messages are read by field name, as protobuf-es itself does.
type AnyMessage = any;
/** The first problem of a message at `path` ("" for the request itself), or undefined. */
export type MessageCheck = (message: AnyMessage, path?: string) => string | undefined;

/** A problem, at a path relative to the message checked; paths are only built once there is one. */
interface Problem {
  readonly path: string;
  readonly text: string;
}
type Check = (message: AnyMessage) => Problem | undefined;

const REPLACEMENT_CHARACTER = "\uFFFD";
const compiled = new WeakMap<DescMessage, Check>();

/** The check of `schema` messages; throws when a field of it (or of a message inside it) has no bound. */
export function messageCheck(schema: DescMessage, bounds: Bounds = INPUT_BOUNDS): MessageCheck {
  const check = compile(schema, bounds, bounds === INPUT_BOUNDS ? compiled : new WeakMap());
  return (message, path = "") => {
    const problem = check(message);
    if (!problem) return undefined;
    const at = path === "" ? problem.path : problem.path === "" ? path : `${path}.${problem.path}`;
    return `${at} ${problem.text}`;
  };
}

function compile(schema: DescMessage, bounds: Bounds, cache: WeakMap<DescMessage, Check>): Check {
  const known = cache.get(schema);
  if (known) return known;
  let checks: Check[] = [];
  const check: Check = (message) => {
    for (const each of checks) {
      const problem = each(message);
      if (problem) return problem;
    }
    return undefined;
  };
  // Registered before its fields are compiled, so a recursive message type finds it.
  cache.set(schema, check);
  checks = schema.fields.map((field) => fieldCheck(field, bounds, cache)).filter((each): each is Check => each !== undefined);
  return check;
}

/** `problem` of a value inside the field at `at` (the field's name, with an index or key). */
function under(at: string, problem: Problem | undefined): Problem | undefined {
  if (!problem) return undefined;
  return { path: problem.path === "" ? at : `${at}.${problem.path}`, text: problem.text };
}

function fieldCheck(field: DescField, bounds: Bounds, cache: WeakMap<DescMessage, Check>): Check | undefined {
  const name = field.localName;
  const label = field.name;
  // A member of a oneof lives under the oneof's name, as { case, value }, and is set only when it is the case.
  const oneof = field.oneof?.localName;
  const fieldValue = (message: AnyMessage): unknown =>
    oneof === undefined ? message[name] : message[oneof]?.case === name ? message[oneof].value : undefined;
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
      return (message) => under(label, textProblem(fieldValue(message), max));
    }
    case "message": {
      const inner = compile(field.message, bounds, cache);
      return (message) => {
        const value = fieldValue(message);
        return value === undefined ? undefined : under(label, inner(value));
      };
    }
    case "list": {
      const { entries, characters } = bound();
      const maxEntries = required(entries, field, "entries");
      const element = field.listKind === "message" ? compile(field.message, bounds, cache) : undefined;
      const maxCharacters = field.listKind === "scalar" && isText(field.scalar) ? required(characters, field, "characters") : undefined;
      return (message) => {
        const list: unknown[] = message[name];
        if (list.length > maxEntries) return { path: label, text: `has more than ${maxEntries} entries` };
        for (let index = 0; index < list.length; index++) {
          const problem = element
            ? element(list[index])
            : maxCharacters !== undefined
              ? textProblem(list[index], maxCharacters)
              : undefined;
          if (problem) return under(`${label}[${index}]`, problem);
        }
        return undefined;
      };
    }
    case "map": {
      const { entries, keyCharacters, characters } = bound();
      const maxEntries = required(entries, field, "entries");
      const maxKey = isText(field.mapKey) ? required(keyCharacters, field, "keyCharacters") : undefined;
      const value = field.mapKind === "message" ? compile(field.message, bounds, cache) : undefined;
      const maxValue = field.mapKind === "scalar" && isText(field.scalar) ? required(characters, field, "characters") : undefined;
      return (message) => {
        const map: Record<string, unknown> = message[name];
        const keys = Object.keys(map);
        if (keys.length > maxEntries) return { path: label, text: `has more than ${maxEntries} entries` };
        for (const key of keys) {
          const keyProblem = maxKey === undefined ? undefined : textProblem(key, maxKey);
          if (keyProblem) return { path: `${label} key ${excerpt(key)}`, text: keyProblem.text };
          const problem = value ? value(map[key]) : maxValue !== undefined ? textProblem(map[key], maxValue) : undefined;
          if (problem) return under(`${label}[${excerpt(key)}]`, problem);
        }
        return undefined;
      };
    }
  }
}

function textProblem(value: unknown, max: number): Problem | undefined {
  if (typeof value === "string") {
    if (value.length > max) return { path: "", text: `is longer than ${max} characters (${value.length})` };
    if (value.includes(REPLACEMENT_CHARACTER))
      return { path: "", text: "is not valid UTF-8 (invalid bytes, or U+FFFD, which they decode to)" };
    return undefined;
  }
  if (value instanceof Uint8Array && value.length > max) return { path: "", text: `is longer than ${max} bytes (${value.length})` };
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
