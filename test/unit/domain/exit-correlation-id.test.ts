import { describe, expect, it } from "vitest";
import { exitCorrelationId } from "../../../src/domain/exit-correlation-id.js";

const REGISTERED = Date.parse("2025-01-02T09:15:00Z");
const tracker = (orderNo: string, createdAt = REGISTERED) => ({ orderNo, createdAt });

describe("exitCorrelationId", () => {
  it("is the same for the same tracker and attempt, in any process", () => {
    expect(exitCorrelationId(tracker("ENTRY-1"), 1)).toBe(exitCorrelationId(tracker("ENTRY-1"), 1));
    // Pinned: a process of another version must derive the same id for an attempt it did not start.
    // (Stored intents keep the id they were given, so resuming them never depends on this.)
    expect(exitCorrelationId(tracker("ENTRY-1"), 1)).toBe("x8e731e0606c6efca-1");
  });

  it("differs between attempts and between trackers", () => {
    expect(exitCorrelationId(tracker("ENTRY-1"), 2)).not.toBe(exitCorrelationId(tracker("ENTRY-1"), 1));
    expect(exitCorrelationId(tracker("ENTRY-2"), 1)).not.toBe(exitCorrelationId(tracker("ENTRY-1"), 1));
  });

  it("differs for an order_no registered again later, so its exit never finds the earlier tracker's order", () => {
    const nextDay = REGISTERED + 24 * 3_600_000;
    expect(exitCorrelationId(tracker("ENTRY-1", nextDay), 1)).not.toBe(exitCorrelationId(tracker("ENTRY-1"), 1));
  });

  it("fits the broker's 25-character limit even for the longest order_no", () => {
    expect(exitCorrelationId(tracker("X".repeat(64)), 999).length).toBeLessThanOrEqual(25);
    expect(exitCorrelationId(tracker("X".repeat(64)), 999)).toMatch(/^[A-Za-z0-9-]+$/);
  });
});
