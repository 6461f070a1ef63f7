import { describe, expect, it } from "vitest";
import { InProcessLock } from "../../../src/lock/in-process-lock.js";

describe("InProcessLock when a lease outlives its TTL unextended (a stalled event loop)", () => {
  it("reports the lease lost, and its signal aborted, at the first look, before any timer has run", async () => {
    let now = 1_000_000;
    const lock = new InProcessLock(() => now);
    const acquired = await lock.acquire("lock:exit:ORD-1", 1_000);
    if (acquired.kind !== "acquired") throw new Error("test setup: lock not acquired");
    expect(acquired.lease.lost).toBe(false);
    now += 5_000;
    expect(acquired.lease.lost).toBe(true);
    // The signal is built on first use, after the loss: it starts aborted.
    expect(acquired.lease.signal.aborted).toBe(true);
    expect(await lock.release(acquired.lease)).toBe("not-held");
  });

  it("keeps a lease's signal quiet while it is within its TTL", async () => {
    const now = 1_000_000;
    const lock = new InProcessLock(() => now);
    const acquired = await lock.acquire("lock:exit:ORD-2", 1_000);
    if (acquired.kind !== "acquired") throw new Error("test setup: lock not acquired");
    expect(acquired.lease.signal.aborted).toBe(false);
    expect(acquired.lease.lost).toBe(false);
    expect(await lock.release(acquired.lease)).toBe("released");
    expect(acquired.lease.signal.aborted).toBe(false);
    expect(acquired.lease.lost).toBe(false);
  });
});

describe("InProcessLock's lease validity", () => {
  it("ends a TTL after the acquisition, on the lock's clock: the latest moment an order may be sent under it", async () => {
    const now = 1_000_000;
    const lock = new InProcessLock(() => now);
    const acquired = await lock.acquire("lock:exit:ORD-3", 1_500);
    if (acquired.kind !== "acquired") throw new Error("test setup: lock not acquired");
    expect(acquired.lease.validUntilMs).toBe(1_001_500);
    await lock.release(acquired.lease);
  });
});
