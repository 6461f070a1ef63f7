import { describe, expect, it } from "vitest";
import { formatDecimal, parseDecimal } from "../../../src/domain/money.js";

describe("parseDecimal", () => {
  it.each(["101.55", "0.05", "75", "1.10", "+3.5", ".5", "123456789012345678.123456789"])("accepts %s", (text) => {
    expect(parseDecimal(text)).toBeDefined();
  });

  it.each(["", " ", "abc", "1e5", "NaN", "Infinity", "1,5", "0x10", "1.2.3", "9".repeat(40)])("refuses %j", (text) => {
    expect(parseDecimal(text)).toBeUndefined();
  });

  it("adds prices exactly where a binary float cannot", () => {
    expect(parseDecimal("0.1")!.plus(parseDecimal("0.2")!).toFixed()).toBe("0.3");
  });

  it("formats without exponent notation", () => {
    expect(formatDecimal(parseDecimal("0.00000001"))).toBe("0.00000001");
    expect(formatDecimal(parseDecimal("123456789012345678901"))).toBe("123456789012345678901");
  });

  it("drops trailing zeros, which changes no value", () => {
    expect(formatDecimal(parseDecimal("1.10"))).toBe("1.1");
  });
});
