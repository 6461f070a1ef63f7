/**
 * The ExitLock contract, run against every adapter: what the exit engine may
 * rely on whichever lock is configured (the embedded in-process lock, Redlock
 * over three redis-server nodes).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExitLock, LockAcquisition, LockLease } from "../../../src/exit/ports.js";
import { InProcessLock } from "../../../src/lock/in-process-lock.js";
import { LockCluster } from "../../support/redis-lock-nodes.js";

const SLOW = 60_000;
const TTL_MS = 10_000;

function leaseOf(acquisition: LockAcquisition): LockLease {
  if (acquisition.kind !== "acquired") throw new Error(`expected the lock to be acquired, got ${JSON.stringify(acquisition)}`);
  return acquisition.lease;
}

let cluster: LockCluster | undefined;
beforeAll(async () => {
  cluster = await LockCluster.start(3);
}, SLOW);
afterAll(async () => {
  await cluster?.destroy();
}, SLOW);

const adapters: Array<[string, () => Promise<ExitLock>]> = [
  ["InProcessLock", async () => new InProcessLock()],
  // `attempts: 1`: a busy resource answers at once rather than after retries.
  ["Redlock on 3 nodes", async () => cluster!.redlock({ attempts: 1 })],
];

describe.each(adapters)("%s", (_name, makeLock) => {
  describe("when the resource is free", () => {
    it(
      "grants a lease on it that is not lost, in at least one round",
      async () => {
        const lock = await makeLock();
        const lease = leaseOf(await lock.acquire("lock:exit:C-FREE", TTL_MS));
        expect(lease).toMatchObject({ resource: "lock:exit:C-FREE", lost: false });
        expect(lease.attempts).toBeGreaterThanOrEqual(1);
        expect(lease.signal.aborted).toBe(false);
        expect(lease.fencingToken).toBeGreaterThan(0);
        expect(await lock.release(lease)).toBe("released");
      },
      SLOW,
    );

    it(
      "lets a different resource be held at the same time",
      async () => {
        const lock = await makeLock();
        const first = leaseOf(await lock.acquire("lock:exit:C-A", TTL_MS));
        const second = leaseOf(await lock.acquire("lock:exit:C-B", TTL_MS));
        expect(await lock.release(first)).toBe("released");
        expect(await lock.release(second)).toBe("released");
      },
      SLOW,
    );
  });

  describe("when the resource is held", () => {
    it(
      "answers busy, a status rather than an error, and the holder keeps it",
      async () => {
        const lock = await makeLock();
        const held = leaseOf(await lock.acquire("lock:exit:C-HELD", TTL_MS));
        const again = await lock.acquire("lock:exit:C-HELD", TTL_MS);
        expect(again.kind).toBe("busy");
        expect(held.lost).toBe(false);
        expect(await lock.release(held)).toBe("released");
      },
      SLOW,
    );
  });

  describe("when the holder releases", () => {
    it(
      "frees the resource for the next holder, whose fencing token is higher",
      async () => {
        const lock = await makeLock();
        const tokens: number[] = [];
        for (let holder = 0; holder < 3; holder++) {
          const lease = leaseOf(await lock.acquire("lock:exit:C-NEXT", TTL_MS));
          tokens.push(lease.fencingToken);
          expect(await lock.release(lease)).toBe("released");
        }
        expect(tokens[1]).toBeGreaterThan(tokens[0]!);
        expect(tokens[2]).toBeGreaterThan(tokens[1]!);
      },
      SLOW,
    );

    it(
      "answers not-held to a second release of the same lease, and changes nothing",
      async () => {
        const lock = await makeLock();
        const lease = leaseOf(await lock.acquire("lock:exit:C-TWICE", TTL_MS));
        expect(await lock.release(lease)).toBe("released");
        expect(await lock.release(lease)).toBe("not-held");
        const next = leaseOf(await lock.acquire("lock:exit:C-TWICE", TTL_MS));
        expect(await lock.release(next)).toBe("released");
      },
      SLOW,
    );

    it(
      "answers held-by-other to a release of an earlier lease once another holder has it, which keeps it",
      async () => {
        const lock = await makeLock();
        const earlier = leaseOf(await lock.acquire("lock:exit:C-OTHER", TTL_MS));
        expect(await lock.release(earlier)).toBe("released");
        const current = leaseOf(await lock.acquire("lock:exit:C-OTHER", TTL_MS));
        expect(await lock.release(earlier)).toBe("held-by-other");
        expect((await lock.acquire("lock:exit:C-OTHER", TTL_MS)).kind).toBe("busy");
        expect(await lock.release(current)).toBe("released");
      },
      SLOW,
    );
  });
});
