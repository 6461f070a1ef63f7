import { describe, expect, it } from "vitest";
import { exitCorrelationId } from "../../../src/domain/exit-correlation-id.js";

describe("exitCorrelationId", () => {
  it("is the same for the same order_no and attempt, in any process", () => {
    expect(exitCorrelationId("ENTRY-1", 1)).toBe(exitCorrelationId("ENTRY-1", 1));
    // Pinned: changing the derivation would orphan intents stored by an older version.
    expect(exitCorrelationId("ENTRY-1", 1)).toBe("xb9787ca5f8ff4b8c-1");
  });

  it("differs between attempts and between trackers", () => {
    expect(exitCorrelationId("ENTRY-1", 2)).not.toBe(exitCorrelationId("ENTRY-1", 1));
    expect(exitCorrelationId("ENTRY-2", 1)).not.toBe(exitCorrelationId("ENTRY-1", 1));
  });

  it("fits the broker's 25-character limit even for the longest order_no", () => {
    expect(exitCorrelationId("X".repeat(64), 999).length).toBeLessThanOrEqual(25);
    expect(exitCorrelationId("X".repeat(64), 999)).toMatch(/^[A-Za-z0-9-]+$/);
  });
});
