import { describe, expect, it } from "vitest";
import { formatDecimal, parseDecimal } from "../../../src/domain/money.js";

describe("parseDecimal", () => {
  it.each(["101.55", "0.05", "75", "1.10", "-3.5", "007", "123456789012345678.123456789"])("accepts %s", (text) => {
    expect(parseDecimal(text)).toBeDefined();
  });

  it.each(["", " ", "abc", "1e5", "NaN", "Infinity", "1,5", "0x10", "1.2.3", "9".repeat(40), "+3.5", ".5", "5.", "-", "--1", "1_000"])(
    "refuses %j",
    (text) => {
      expect(parseDecimal(text)).toBeUndefined();
    },
  );

  describe("with anything around the number", () => {
    it.each([" 1", "1 ", "\t1", "1\n", "\u00a01", "\ufeff1", "1\u2028", "\u20071", "1\u0000"])(
      "refuses %j, which trimming used to accept",
      (text) => {
        expect(parseDecimal(text)).toBeUndefined();
      },
    );

    it.each(["\u0661", "\uff11", "\u{1d7cf}"])("refuses %j, digits other than ASCII ones", (text) => {
      expect(parseDecimal(text)).toBeUndefined();
    });
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
