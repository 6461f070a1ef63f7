import { describe, expect, it } from "vitest";
import { beforeDeadline } from "../../../src/domain/deadline.js";
import { TradingCoreError } from "../../../src/domain/trading-core-error.js";

describe("beforeDeadline", () => {
  it("answers what the work answers when it finishes in time", async () => {
    await expect(beforeDeadline(1_000, "quick work", Promise.resolve("done"))).resolves.toBe("done");
  });

  it("rejects with the work's own error when the work fails in time", async () => {
    const failure = new Error("refused");
    await expect(beforeDeadline(1_000, "failing work", Promise.reject(failure))).rejects.toBe(failure);
  });

  it("rejects with a timeout TradingCoreError naming the work when the work outlasts the deadline", async () => {
    const never = new Promise<never>(() => {});
    const error = await beforeDeadline(20, "tracker store get", never).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TradingCoreError);
    expect(error).toMatchObject({ code: "timeout", message: "tracker store get: no answer within 20 ms" });
  });
});
