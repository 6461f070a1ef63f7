import { describe, expect, it } from "vitest";
import { EXCERPT_CHARACTERS, excerpt } from "../../../src/domain/text-excerpt.js";

describe("excerpt of a caller's text", () => {
  it("quotes a short text whole", () => {
    expect(excerpt("ten")).toBe('"ten"');
  });

  it("cuts a long text and says how long it was", () => {
    const quoted = excerpt(`${" ".repeat(10_000)}-1`);
    expect(quoted).toBe(`"${" ".repeat(EXCERPT_CHARACTERS)}…" (10002 characters)`);
  });

  it("stays short however long the text is", () => {
    expect(excerpt("x".repeat(5_000_000)).length).toBeLessThan(EXCERPT_CHARACTERS + 30);
  });

  it.each([
    ["a quote and a backslash", 'a"b\\c', '"a\\"b\\\\c"'],
    ["a newline, a carriage return and a tab", "a\nb\rc\td", '"a\\nb\\rc\\td"'],
    ["a NUL and an escape", "a\u0000b\u001b", '"a\\u0000b\\u001b"'],
    ["NBSP, BOM, U+2028 and a zero-width space", "\u00a01\ufeff\u2028\u200b", '"\\u00a01\\ufeff\\u2028\\u200b"'],
    ["a lone surrogate", "a\ud800b", '"a\\ud800b"'],
  ])("escapes %s", (_, text, quoted) => {
    expect(excerpt(text)).toBe(quoted);
  });

  it("keeps letters of any script and characters outside the BMP as they are", () => {
    expect(excerpt("निफ्टी €💹")).toBe('"निफ्टी €💹"');
  });

  it("never cuts a character outside the BMP in half", () => {
    const quoted = excerpt("💹".repeat(100), 3);
    expect(quoted).toBe('"💹💹💹…" (200 characters)');
  });
});
