import { describe, expect, it } from "vitest";
import { ExitStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { GatedLock, deferred } from "../../support/gated-lock.js";
import { exitWorld } from "./exit-world.js";

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("ExitEngine when the lock release is slow", () => {
  it("answers EXITED while the release is pending, and whenIdle waits for the release", async () => {
    const lock = new GatedLock();
    const release = deferred();
    lock.releaseGate = release.promise;
    const world = exitWorld({ lock });
    await world.register("ORD-SLOW-RELEASE");

    const outcome = await world.exit("ORD-SLOW-RELEASE");
    expect(outcome.status).toBe(ExitStatus.EXITED);
    expect(world.engine.lockReleasesInFlight).toBe(1);
    await lock.releaseStarted.promise;
    expect(lock.releasesPending).toBe(1);

    let idle = false;
    const whenIdle = world.engine.whenIdle().then(() => (idle = true));
    await nextTurn();
    expect(idle).toBe(false);
    release.resolve();
    await whenIdle;
    expect(lock.releasesDone).toBe(1);
    expect(world.engine.lockReleasesInFlight).toBe(0);
  });

  it("has the next exit of the same tracker in this process wait for the release instead of finding its own lock busy", async () => {
    const lock = new GatedLock();
    const release = deferred();
    lock.releaseGate = release.promise;
    const world = exitWorld({ lock, faults: { rejectRate: 1 } });
    await world.register("ORD-AGAIN");

    expect((await world.exit("ORD-AGAIN")).status).toBe(ExitStatus.ROUTER_REJECTED);
    const again = world.exit("ORD-AGAIN");
    release.resolve();
    // Tried again under the lock (not EXIT_IN_PROGRESS): the tracker is ACTIVE once more after a refusal.
    expect((await again).status).toBe(ExitStatus.ROUTER_REJECTED);
  });

  it("logs a failed release and still answers", async () => {
    const lock = new GatedLock();
    lock.releaseGate = Promise.reject(new Error("lock node gone"));
    lock.releaseGate.catch(() => undefined);
    const world = exitWorld({ lock });
    await world.register("ORD-FAILED-RELEASE");

    expect((await world.exit("ORD-FAILED-RELEASE")).status).toBe(ExitStatus.EXITED);
    await world.engine.whenIdle();
    expect(world.log.lines.some((line) => line.message.includes("release failed; it expires by its TTL"))).toBe(true);
  });
});
