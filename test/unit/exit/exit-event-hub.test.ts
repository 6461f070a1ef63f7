import { describe, expect, it } from "vitest";
import { ExitEventKind } from "../../../gen/tradingcore/v1/exit_pb.js";
import { isTradingCoreError } from "../../../src/domain/trading-core-error.js";
import { ExitEventHub } from "../../../src/exit/exit-event-hub.js";
import { drain, exitWorld } from "./exit-world.js";

function eventFor(orderNo: string, kind = ExitEventKind.INTENT) {
  return { kind, tracker: { orderNo } as never, correlationId: `c-${orderNo}`, timeMs: 1, message: "" };
}

describe("ExitEventHub with a watcher that keeps up", () => {
  it("delivers every event in publish order with sequences 1, 2, 3", async () => {
    const hub = new ExitEventHub(8);
    const watch = hub.watch();
    hub.publish(eventFor("A"));
    hub.publish(eventFor("B"));
    hub.publish(eventFor("A", ExitEventKind.EXITED));
    const seen = await drain(watch, 3);
    expect(seen.map((e) => [e.sequence, e.tracker.orderNo, e.kind])).toEqual([
      [1n, "A", ExitEventKind.INTENT],
      [2n, "B", ExitEventKind.INTENT],
      [3n, "A", ExitEventKind.EXITED],
    ]);
  });

  it("delivers only the watched tracker's events when filtered by order_no", async () => {
    const hub = new ExitEventHub(8);
    const watch = hub.watch({ orderNo: "B" });
    hub.publish(eventFor("A"));
    hub.publish(eventFor("B"));
    hub.close();
    const seen = await drain(watch, 10);
    expect(seen.map((e) => [e.sequence, e.tracker.orderNo])).toEqual([[2n, "B"]]);
  });

  it("hands a pending reader the next event", async () => {
    const hub = new ExitEventHub(1);
    const watch = hub.watch();
    const pending = watch.next();
    hub.publish(eventFor("A"));
    await expect(pending).resolves.toMatchObject({ done: false, value: { sequence: 1n } });
  });
});

describe("ExitEventHub with a watcher that falls behind", () => {
  it("drops the watcher without refusing any publish", () => {
    const hub = new ExitEventHub(2);
    hub.watch();
    for (let i = 0; i < 10; i++) hub.publish(eventFor(`T${i}`));
    expect(hub.watcherCount).toBe(0);
    expect(hub.lastSequence).toBe(10n);
  });

  it("lets the watcher read what it had buffered, then tells it it was dropped", async () => {
    const hub = new ExitEventHub(2);
    const watch = hub.watch();
    for (let i = 0; i < 5; i++) hub.publish(eventFor(`T${i}`));
    expect((await watch.next()).value?.sequence).toBe(1n);
    expect((await watch.next()).value?.sequence).toBe(2n);
    const failure = await watch.next().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isTradingCoreError(failure, "resource-exhausted")).toBe(true);
    expect(String((failure as Error).message)).toContain("after event 2");
  });

  it("keeps serving the watchers that keep up", async () => {
    const hub = new ExitEventHub(2);
    hub.watch();
    const keeping = hub.watch();
    for (let i = 0; i < 6; i++) {
      hub.publish(eventFor(`T${i}`));
      expect((await keeping.next()).value?.sequence).toBe(BigInt(i + 1));
    }
    expect(hub.watcherCount).toBe(1);
  });
});

describe("ExitEventHub when closed or cancelled", () => {
  it("ends every watch after its buffered events on close", async () => {
    const hub = new ExitEventHub(8);
    const watch = hub.watch();
    hub.publish(eventFor("A"));
    hub.close();
    expect((await watch.next()).value?.sequence).toBe(1n);
    expect((await watch.next()).done).toBe(true);
    expect((await hub.watch().next()).done).toBe(true);
  });

  it("ends a pending read when the watch's signal aborts", async () => {
    const hub = new ExitEventHub(8);
    const controller = new AbortController();
    const watch = hub.watch({ signal: controller.signal });
    const pending = watch.next();
    controller.abort();
    await expect(pending).resolves.toMatchObject({ done: true });
    expect(hub.watcherCount).toBe(0);
  });
});

describe("ExitEventHub as the engine's event sink", () => {
  it("sees intent, acceptance and EXITED of one exit, in that order", async () => {
    const world = exitWorld();
    await world.register("ORD-1");
    const watch = world.events.watch({ orderNo: "ORD-1" });
    await world.exit("ORD-1");
    world.events.close();
    const kinds = (await drain(watch, 10)).map((e) => e.kind);
    expect(kinds).toEqual([ExitEventKind.INTENT, ExitEventKind.ROUTER_ACCEPTED, ExitEventKind.EXITED]);
  });

  it("does not hold exits back when a watcher never reads", async () => {
    const world = exitWorld({ watchBufferSize: 4 });
    const idle = world.events.watch();
    for (let i = 0; i < 50; i++) await world.register(`ORD-${i}`, { securityId: String(1000 + i) });
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => world.exit(`ORD-${i}`)));
    expect(outcomes.every((o) => o.success)).toBe(true);
    expect(world.events.watcherCount).toBe(0);
    await drain(idle, 4);
    await expect(idle.next()).rejects.toThrow(/fell more than 4 events behind/);
  });
});
