import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RedlockLease, type LeaseRenewal } from "../../../src/lock/redlock-lease.js";
import { stallEventLoop } from "../../support/exit-fixtures.js";

// The global performance, which fake timers replace: the lease's clock moves with the timers the test advances.
function leaseWith(renew: LeaseRenewal, validForMs: number, extendEveryMs: number): RedlockLease {
  const now = () => performance.now();
  return new RedlockLease("lock:exit:unit", "value", 7, 1, now() + validForMs, extendEveryMs, renew, now);
}

describe("RedlockLease's validity end", () => {
  it("reads as whole epoch ms on the wall clock, no later than its monotonic validity", () => {
    const lease = leaseWith(async () => undefined, 2_000, 10_000);
    const before = Date.now();
    const validUntilMs = lease.validUntilMs;
    expect(Number.isInteger(validUntilMs)).toBe(true);
    expect(validUntilMs).toBeGreaterThanOrEqual(before + 1_900);
    expect(validUntilMs).toBeLessThanOrEqual(Date.now() + 2_000);
    lease.end();
  });
});

/** Timers and the clock move only when a test advances them. */
function withFakeTime(): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}

describe("RedlockLease when no quorum extends it", () => {
  withFakeTime();

  it("aborts its signal with a TradingCoreError once its validity ends", async () => {
    const lease = leaseWith(async () => undefined, 200, 50);
    lease.start();
    await vi.advanceTimersByTimeAsync(199);
    expect(lease.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    expect(lease.signal.aborted).toBe(true);
    expect(lease.signal.reason).toMatchObject({ name: "TradingCoreError", code: "unavailable" });
    expect(lease.held).toBe(false);
    expect(lease.lost).toBe(true);
  });

  it("reads as lost past its validity at the first look, without a signal ever built", async () => {
    const lease = leaseWith(async () => undefined, 50, 10_000);
    expect(lease.lost).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(lease.lost).toBe(true);
    expect(lease.signal.aborted).toBe(true);
  });

  it("is not revived by an extension that answers after it lapsed", async () => {
    let renewals = 0;
    const lease = leaseWith(
      async () => {
        renewals++;
        await new Promise((resolve) => setTimeout(resolve, 400));
        return performance.now() + 10_000;
      },
      150,
      20,
    );
    lease.start();
    await vi.advanceTimersByTimeAsync(151);
    expect(lease.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(600);
    expect(renewals).toBe(1);
    expect(lease.held).toBe(false);
  });
});

describe("RedlockLease when extensions succeed", () => {
  withFakeTime();

  it("stays held across several TTLs and stops extending once ended", async () => {
    let renewals = 0;
    const lease = leaseWith(async () => (renewals++, performance.now() + 1_000), 1_000, 100);
    lease.start();
    await vi.advanceTimersByTimeAsync(2_500);
    expect(lease.signal.aborted).toBe(false);
    expect(lease.lost).toBe(false);
    expect(renewals).toBeGreaterThan(0);
    expect(lease.end()).toBe(true);
    const afterEnd = renewals;
    await vi.advanceTimersByTimeAsync(300);
    expect(renewals).toBe(afterEnd);
    expect(lease.signal.aborted).toBe(false);
  });
});

describe("RedlockLease when the event loop stalls past its validity", () => {
  it("reports its signal aborted at the first look after the stall, before any timer has run", () => {
    const lease = leaseWith(async () => performance.now() + 10_000, 100, 30);
    lease.start();
    stallEventLoop(300);
    expect(lease.signal.aborted).toBe(true);
    expect(lease.end()).toBe(false);
  });
});
