/**
 * The exit engine with a store whose replicas may not confirm its writes:
 * no order is sent under an unconfirmed intent, no EXITED or ALREADY_EXITED
 * is answered for an unconfirmed EXITED, and the reconciler finishes what
 * was left once the replicas are back.
 */
import { describe, expect, it } from "vitest";
import { ExitStatus, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import type { ReplicaConfirmation, WriteConfirmation } from "../../../src/exit/ports.js";
import { exitWorld } from "./exit-world.js";

/** Replicas that are up or down as the test says; the in-memory store's writes are otherwise real. */
class SwitchedReplicas implements WriteConfirmation {
  up = true;
  asked = 0;
  async confirm(): Promise<ReplicaConfirmation> {
    this.asked++;
    return this.up ? { confirmed: true } : { confirmed: false, message: "0 of 1 replicas confirmed the write within 500 ms" };
  }
}

describe("ExecuteExit when the store's replicas do not confirm the intent", () => {
  it("answers EXIT_IN_PROGRESS, sends no order and leaves the intent EXITING", async () => {
    const replicas = new SwitchedReplicas();
    const world = exitWorld({ confirmation: replicas });
    await world.register("UNCONFIRMED-1");
    replicas.up = false;

    const outcome = await world.exit("UNCONFIRMED-1");

    expect(ExitStatus[outcome.status]).toBe("EXIT_IN_PROGRESS");
    expect(outcome.success).toBe(false);
    expect(outcome.message).toContain("0 of 1 replicas confirmed");
    expect(world.router.ordersFor("UNCONFIRMED-1")).toBe(0);
    expect((await world.tracker("UNCONFIRMED-1")).status).toBe(TrackerStatus.EXITING);
  });

  it("is exited once by the reconciler after the replicas are back and the intent counts as never placed", async () => {
    const replicas = new SwitchedReplicas();
    const world = exitWorld({ confirmation: replicas, settings: { unknownOrderGraceMs: 5_000 } });
    await world.register("UNCONFIRMED-2");
    replicas.up = false;
    await world.exit("UNCONFIRMED-2");
    replicas.up = true;

    world.clock.advance(60_000);
    await world.reconciler({ settings: { graceMs: 1_000 } }).runOnce();

    expect((await world.tracker("UNCONFIRMED-2")).status).toBe(TrackerStatus.EXITED);
    expect(world.router.ordersFor("UNCONFIRMED-2")).toBe(1);
  });
});

describe("ExecuteExit when the store's replicas do not confirm the EXITED", () => {
  it("answers PENDING_RECONCILE with the fill, not EXITED, and sends one order", async () => {
    const replicas = new SwitchedReplicas();
    const world = exitWorld({ confirmation: replicas });
    await world.register("UNCONFIRMED-3", { ltp: "101.5" });
    // The intent is confirmed; the replicas fail between it and the EXITED.
    const realConfirm = replicas.confirm.bind(replicas);
    replicas.confirm = async () => {
      const answer = await realConfirm();
      replicas.up = false;
      return answer;
    };

    const outcome = await world.exit("UNCONFIRMED-3");

    expect(ExitStatus[outcome.status]).toBe("PENDING_RECONCILE");
    expect(outcome.exitPrice?.toFixed()).toBe("101.5");
    expect(outcome.message).toContain("EXITED on the primary");
    expect((await world.tracker("UNCONFIRMED-3")).status).toBe(TrackerStatus.EXITED);
    expect(world.router.ordersFor("UNCONFIRMED-3")).toBe(1);
  });

  it("answers PENDING_RECONCILE instead of ALREADY_EXITED, and ALREADY_EXITED again once confirmed", async () => {
    const replicas = new SwitchedReplicas();
    const world = exitWorld({ confirmation: replicas });
    await world.register("UNCONFIRMED-4");
    expect(ExitStatus[(await world.exit("UNCONFIRMED-4")).status]).toBe("EXITED");

    replicas.up = false;
    expect(ExitStatus[(await world.exit("UNCONFIRMED-4")).status]).toBe("PENDING_RECONCILE");
    replicas.up = true;
    expect(ExitStatus[(await world.exit("UNCONFIRMED-4")).status]).toBe("ALREADY_EXITED");
    expect(world.router.ordersFor("UNCONFIRMED-4")).toBe(1);
  });

  it("asks for no confirmation of answers that claim nothing durable", async () => {
    const replicas = new SwitchedReplicas();
    const world = exitWorld({ confirmation: replicas });
    const outcome = await world.exit("NO-SUCH-TRACKER");
    expect(ExitStatus[outcome.status]).toBe("TRACKER_NOT_FOUND");
    expect(replicas.asked).toBe(0);
  });
});
