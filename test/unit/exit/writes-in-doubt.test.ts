import { describe, expect, it } from "vitest";
import { ExitStatus, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { ExitEventKind } from "../../../gen/tradingcore/v1/exit_pb.js";
import type { TrackerRecord } from "../../../src/domain/tracker.js";
import type { ExitEventRecord } from "../../../src/exit/ports.js";
import { HOLD_MS, WritesInDoubt } from "../../../src/exit/writes-in-doubt.js";
import { exitWorld, ManualClock, MemoryLog } from "./exit-world.js";

async function arrange() {
  const world = exitWorld();
  const intent = await world.register("DOUBT-1");
  const clock = new ManualClock();
  const log = new MemoryLog();
  const published: ExitEventRecord[] = [];
  const inDoubt = new WritesInDoubt(world.store, { publish: (event) => published.push(event) }, clock, log);
  const exited: TrackerRecord = { ...intent, status: TrackerStatus.EXITED, exitedAt: 5, updatedAt: 5, fencingToken: 7 };
  inDoubt.hold(exited, intent.version, { kind: ExitEventKind.EXITED, status: ExitStatus.EXITED, message: "stop loss hit" });
  return { intent, exited, inDoubt, published, clock, log };
}

describe("WritesInDoubt when a read shows the held write", () => {
  it("publishes its event once, with the tracker as the write stored it", async () => {
    const { intent, exited, inDoubt, published } = await arrange();
    const stored = { ...exited, version: intent.version + 1 };

    expect(inDoubt.settleWith("DOUBT-1", stored)).toEqual(stored);
    inDoubt.settleWith("DOUBT-1", stored);

    expect(published).toHaveLength(1);
    expect(published[0]!.kind).toBe(ExitEventKind.EXITED);
    expect(published[0]!.tracker.version).toBe(intent.version + 1);
    expect(inDoubt.size).toBe(0);
  });

  it("publishes an EXITED written again since (a late fill) by its attempt and exit time", async () => {
    const { intent, exited, inDoubt, published } = await arrange();

    inDoubt.settleWith("DOUBT-1", { ...exited, version: intent.version + 2, updatedAt: 9 });

    expect(published).toHaveLength(1);
  });
});

describe("WritesInDoubt when a read shows the held write was not applied", () => {
  it("forgets it when another write took its version, and publishes nothing", async () => {
    const { intent, exited, inDoubt, published } = await arrange();

    expect(inDoubt.settleWith("DOUBT-1", { ...exited, version: intent.version + 1, updatedAt: 6 })).toBeUndefined();

    expect(published).toHaveLength(0);
    expect(inDoubt.size).toBe(0);
  });

  it("forgets it when the tracker is gone", async () => {
    const { inDoubt, published } = await arrange();

    inDoubt.settleWith("DOUBT-1", undefined);

    expect(published).toHaveLength(0);
    expect(inDoubt.size).toBe(0);
  });
});

describe("WritesInDoubt when reads show the version before the held write", () => {
  it("keeps it until HOLD_MS has passed, then drops it with an error log", async () => {
    const { intent, inDoubt, published, clock, log } = await arrange();

    inDoubt.settleWith("DOUBT-1", intent);
    expect(inDoubt.size).toBe(1);
    clock.advance(HOLD_MS);
    inDoubt.settleWith("DOUBT-1", intent);

    expect(inDoubt.size).toBe(0);
    expect(published).toHaveLength(0);
    expect(log.lines.some((line) => line.level === "error" && line.message.includes("write in doubt dropped"))).toBe(true);
  });

  it("keeps it while the store cannot be read", async () => {
    const { intent, exited, published } = await arrange();
    const unreachable = new WritesInDoubt(
      { get: () => Promise.reject(new Error("unreachable")) },
      { publish: (event) => published.push(event) },
      new ManualClock(),
      new MemoryLog(),
    );
    unreachable.hold(exited, intent.version, { kind: ExitEventKind.EXITED, message: "stop loss hit" });

    expect(await unreachable.settle()).toBe(0);

    expect(unreachable.size).toBe(1);
    expect(published).toHaveLength(0);
  });
});
