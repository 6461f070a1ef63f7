import { describe, expect, it } from "vitest";
import { TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { assertLegalTransition, isLegalTransition } from "../../../src/domain/tracker-transitions.js";
import { isTradingCoreError } from "../../../src/domain/trading-core-error.js";

const { PENDING, ACTIVE, EXITING, EXITED, CANCELLED } = TrackerStatus;

describe("the tracker transition table", () => {
  it.each([
    [PENDING, ACTIVE],
    [PENDING, CANCELLED],
    [ACTIVE, EXITING],
    [EXITING, EXITED],
    [EXITING, ACTIVE],
    [EXITED, EXITED],
  ])("allows %s -> %s", (from, to) => {
    expect(isLegalTransition(from, to)).toBe(true);
  });

  it.each([
    [ACTIVE, EXITED],
    [ACTIVE, CANCELLED],
    [EXITING, CANCELLED],
    [EXITED, EXITING],
    [EXITED, ACTIVE],
    [CANCELLED, ACTIVE],
    [PENDING, EXITING],
  ])("refuses %s -> %s", (from, to) => {
    expect(isLegalTransition(from, to)).toBe(false);
  });

  it("throws illegal-transition naming the tracker and both states", () => {
    try {
      assertLegalTransition("A-1", ACTIVE, EXITED);
      expect.unreachable();
    } catch (error) {
      expect(isTradingCoreError(error, "illegal-transition")).toBe(true);
      expect((error as Error).message).toContain("A-1: ACTIVE -> EXITED");
    }
  });
});
