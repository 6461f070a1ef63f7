/**
 * Arbitraries of hostile field values, as the bytes that go on the wire, so a
 * string can be invalid UTF-8 as easily as it can be huge. Each arbitrary
 * says what it is: values of an `invalid…` arbitrary are refused by the
 * contract whatever else the request holds; values of a `valid…` one are
 * accepted.
 */
import fc from "fast-check";
import { INVALID_UTF8 } from "../../support/raw-grpc.js";

const utf8 = new TextEncoder();
export const bytesOf = (text: string): Uint8Array => utf8.encode(text);

/** Whitespace and invisible characters that trimming used to swallow, and some it never did. */
export const WHITESPACE = [
  " ",
  "\t",
  "\n",
  "\r",
  "\u000b",
  "\u000c",
  "\u00a0",
  "\u1680",
  "\u2007",
  "\u2028",
  "\u2029",
  "\u202f",
  "\u3000",
  "\ufeff",
  "\u200b",
  "\u0000",
];

/** Text of printable ASCII, emoji and letters of any script, combining marks included; never U+FFFD. */
export function anyText(minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc
    .oneof(
      fc.string({ minLength, maxLength }),
      fc.string({ unit: "grapheme", minLength, maxLength }),
      fc.string({ unit: "grapheme-composite", minLength, maxLength }),
    )
    .map((text) => cutToLength(text.replaceAll("\uFFFD", "?"), maxLength))
    .filter((text) => text.length >= minLength);
}

/** At most `maxLength` code units of `text`, never half of a surrogate pair. */
function cutToLength(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  let cut = "";
  for (const codePoint of text) {
    if (cut.length + codePoint.length > maxLength) break;
    cut += codePoint;
  }
  return cut;
}

/** Strings longer than `max` code units: a little over it, or up to a megabyte, of one- to four-byte characters. */
export function overLength(max: number): fc.Arbitrary<Uint8Array> {
  return fc
    .oneof(
      anyText(max + 1, max + 40),
      fc
        .tuple(fc.integer({ min: max + 1, max: 1_000_000 }), fc.constantFrom("x", " ", "é", "€", "💹", "\u0000", "\u2028"))
        .map(([length, unit]) => unit.repeat(Math.ceil(length / unit.length))),
    )
    .map(bytesOf);
}

/** Bytes that are not UTF-8 (a bad sequence somewhere in text), `max` bytes at most, or U+FFFD, what they decode to. */
export function invalidUtf8(max: number): fc.Arbitrary<Uint8Array> {
  const room = Math.max(0, Math.floor((max - 3) / 2));
  return fc.oneof(
    fc
      .tuple(fc.string({ maxLength: room }), fc.constantFrom(...INVALID_UTF8), fc.string({ maxLength: room }))
      .map(([before, bad, after]) => new Uint8Array([...bytesOf(before), ...bad, ...bytesOf(after)])),
    fc.tuple(fc.string({ maxLength: room }), fc.string({ maxLength: room })).map(([before, after]) => bytesOf(`${before}\uFFFD${after}`)),
  );
}

/** Text made only of whitespace (blank), possibly empty. */
export const blank: fc.Arbitrary<Uint8Array> = fc
  .array(fc.constantFrom(" ", "\t", "\n", "\u00a0", "\ufeff", "\u2028", "\u3000"), { maxLength: 8 })
  .map((parts) => bytesOf(parts.join("")));

const DECIMAL = /^-?[0-9]+(\.[0-9]+)?$/;
const validDecimal = fc
  .tuple(fc.bigInt({ min: 1n, max: 10n ** 12n }), fc.nat({ max: 9999 }))
  .map(([whole, fraction]) => `${whole}.${fraction}`);

/** Decimals the grammar refuses (within 32 characters, so the grammar is what refuses them), `""` excluded. */
export const malformedDecimal: fc.Arbitrary<Uint8Array> = fc
  .oneof(
    fc
      .tuple(fc.constantFrom(...WHITESPACE), validDecimal, fc.boolean())
      .map(([space, decimal, before]) => (before ? `${space}${decimal}` : `${decimal}${space}`)),
    fc.constantFrom(
      "1e3",
      "1E-2",
      "+1",
      ".5",
      "5.",
      "-",
      "--1",
      "NaN",
      "Infinity",
      "-Infinity",
      "0x10",
      "1,5",
      "1_000",
      "١٢",
      "１２",
      "1.2.3",
      "½",
      "∞",
    ),
    anyText(1, 32),
  )
  .filter((text) => text !== "" && text.length <= 32 && !DECIMAL.test(text))
  .map(bytesOf);

/** Decimals of the grammar that are not above zero. */
export const nonPositiveDecimal: fc.Arbitrary<Uint8Array> = fc
  .constantFrom("0", "0.000", "-0", "-1", "-12.5", "-99999999999999999999.99")
  .map(bytesOf);
export const negativeDecimal: fc.Arbitrary<Uint8Array> = fc.constantFrom("-1", "-12.5", "-0.0001").map(bytesOf);

/** Decimals of the grammar longer than the 32 characters any decimal may have. */
export const overLongDecimal: fc.Arbitrary<Uint8Array> = fc
  .integer({ min: 33, max: 200_000 })
  .chain((length) => fc.constantFrom("9".repeat(length), `1.${"0".repeat(length)}`))
  .map(bytesOf);

/** Enum numbers the enum does not have, above and below (negative ones are 10-byte varints). */
export function unknownEnum(highestKnown: number): fc.Arbitrary<number> {
  return fc.oneof(fc.integer({ min: highestKnown + 1, max: 2 ** 31 - 1 }), fc.integer({ min: -(2 ** 31), max: -1 }));
}

/** google.protobuf.Timestamp fields outside the range its definition allows. */
export const invalidTimestamp: fc.Arbitrary<{ seconds: bigint; nanos: number }> = fc.oneof(
  fc.record({ seconds: fc.bigInt({ min: 253_402_300_800n, max: 2n ** 63n - 1n }), nanos: fc.constant(0) }),
  fc.record({ seconds: fc.bigInt({ min: -(2n ** 63n), max: -62_135_596_801n }), nanos: fc.constant(0) }),
  fc.record({
    seconds: fc.bigInt({ min: 0n, max: 2_000_000_000n }),
    nanos: fc.oneof(fc.integer({ min: -(2 ** 31), max: -1 }), fc.integer({ min: 1_000_000_000, max: 2 ** 31 - 1 })),
  }),
);

/** Order numbers of the contract (1 to 64 of A-Z a-z 0-9 . _ : -) that no test registers. */
export const unusedOrderNo: fc.Arbitrary<string> = fc.stringMatching(/^[A-Za-z0-9._:-]{1,59}$/).map((text) => `NONE-${text}`.slice(0, 64));
