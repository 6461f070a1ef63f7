import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus, TrackerStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { exitLockResource } from "../../src/exit/exit-engine.js";
import { Money } from "../../src/domain/money.js";
import { MemoryTrackerStore } from "../../src/store/memory-tracker-store.js";
import { registerTracker, uniqueOrderNo } from "../support/fixtures.js";
import { GatedLock, deferred } from "../support/gated-lock.js";
import { startTestServer } from "../support/test-server.js";

const exitRequest = (orderNo: string) => ({ orderNo, reason: "stop loss hit", reasonCode: ExitReasonCode.STOP_LOSS });

/** Another process's write to the tracker: `change` applied as a compare-and-set on what is stored now. */
async function writeAsAnotherProcess(store: MemoryTrackerStore, orderNo: string, ...changes: Array<Record<string, unknown>>) {
  for (const change of changes) {
    const current = (await store.get(orderNo))!;
    const written = await store.compareAndSet({ ...current, ...change, updatedAt: current.updatedAt + 1 }, current.version);
    expect(written.kind).toBe("written");
  }
}

/** Starts an exit whose lock grant waits until the returned `grant` is called; resolves once its tracker load was sent. */
async function exitWithHeldLockGrant(server: Awaited<ReturnType<typeof startTestServer>>, lock: GatedLock, orderNo: string) {
  const gate = deferred();
  lock.acquireGate = gate.promise;
  const answer = server.exits.executeExit(exitRequest(orderNo));
  // The load is sent before the acquisition starts: from here on, the engine's read is taken.
  await lock.acquireStarted.promise;
  return { answer, grant: () => gate.resolve() };
}

describe("ExecuteExit when the tracker is written between the parallel load and the lock grant", () => {
  it("decides again on what is stored: an ACTIVE tracker written meanwhile is exited once", async () => {
    const store = new MemoryTrackerStore();
    const lock = new GatedLock();
    const server = await startTestServer({ adapters: { store, lock } });
    try {
      const orderNo = await registerTracker(server);
      const { answer, grant } = await exitWithHeldLockGrant(server, lock, orderNo);
      await writeAsAnotherProcess(store, orderNo, { meta: { note: "written meanwhile" } });
      grant();
      const { result } = await answer;
      expect(result?.status).toBe(ExitStatus.EXITED);
      expect(result?.tracker?.meta).toEqual({ note: "written meanwhile" });
      expect(server.paper.ordersFor(orderNo)).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("answers ALREADY_EXITED for a tracker another process exited meanwhile, and sends nothing", async () => {
    const store = new MemoryTrackerStore();
    const lock = new GatedLock();
    const server = await startTestServer({ adapters: { store, lock } });
    try {
      const orderNo = await registerTracker(server, { quantity: "75" });
      const { answer, grant } = await exitWithHeldLockGrant(server, lock, orderNo);
      await writeAsAnotherProcess(
        store,
        orderNo,
        { status: TrackerStatus.EXITING, exitAttempt: 1, exitCorrelationId: "elsewhere-1", fencingToken: 1 },
        { status: TrackerStatus.EXITED, exitedQuantity: new Money("75"), exitPrice: new Money("101.55"), exitedAt: 1 },
      );
      grant();
      const { result } = await answer;
      expect(result?.status).toBe(ExitStatus.ALREADY_EXITED);
      expect(result?.tracker?.exitCorrelationId).toBe("elsewhere-1");
      expect(server.paper.ordersFor(orderNo)).toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe("ExecuteExit while another exit holds the tracker's lock", () => {
  const holding = async (orderNo: string, lock: GatedLock) => {
    const held = await lock.inner.acquire(exitLockResource(orderNo), 10_000);
    expect(held.kind).toBe("acquired");
  };

  it("answers ALREADY_EXITED for an EXITED tracker (the holder is releasing after its answer), and sends nothing", async () => {
    const lock = new GatedLock();
    const server = await startTestServer({ adapters: { lock } });
    try {
      const orderNo = await registerTracker(server);
      expect((await server.exits.executeExit(exitRequest(orderNo))).result?.status).toBe(ExitStatus.EXITED);
      await lock.whenReleased();
      await holding(orderNo, lock);
      const { result } = await server.exits.executeExit(exitRequest(orderNo));
      expect(result?.status).toBe(ExitStatus.ALREADY_EXITED);
      expect(result?.success).toBe(true);
      expect(server.paper.ordersFor(orderNo)).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("answers TRACKER_NOT_FOUND for an order_no never registered", async () => {
    const lock = new GatedLock();
    const server = await startTestServer({ adapters: { lock } });
    try {
      const orderNo = uniqueOrderNo("missing");
      await holding(orderNo, lock);
      expect((await server.exits.executeExit(exitRequest(orderNo))).result?.status).toBe(ExitStatus.TRACKER_NOT_FOUND);
    } finally {
      await server.close();
    }
  });

  it("answers NOT_ACTIVE for a PENDING tracker", async () => {
    const lock = new GatedLock();
    const server = await startTestServer({ adapters: { lock } });
    try {
      const orderNo = uniqueOrderNo();
      await server.exits.registerTracker({
        orderNo,
        segment: 2,
        securityId: "9",
        side: 1,
        quantity: "1",
        entryPrice: "1",
        status: TrackerStatus.PENDING,
      });
      await holding(orderNo, lock);
      expect((await server.exits.executeExit(exitRequest(orderNo))).result?.status).toBe(ExitStatus.NOT_ACTIVE);
    } finally {
      await server.close();
    }
  });

  it("answers EXIT_IN_PROGRESS for an ACTIVE tracker: an exit really is running", async () => {
    const lock = new GatedLock();
    const server = await startTestServer({ adapters: { lock } });
    try {
      const orderNo = await registerTracker(server);
      await holding(orderNo, lock);
      expect((await server.exits.executeExit(exitRequest(orderNo))).result?.status).toBe(ExitStatus.EXIT_IN_PROGRESS);
      expect(server.paper.ordersFor(orderNo)).toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe("ExecuteExit when the lock release is slow", () => {
  it("answers while the release is still pending", async () => {
    const lock = new GatedLock();
    const release = deferred();
    lock.releaseGate = release.promise;
    const server = await startTestServer({ adapters: { lock } });
    try {
      const orderNo = await registerTracker(server);
      const { result } = await server.exits.executeExit(exitRequest(orderNo));
      expect(result?.status).toBe(ExitStatus.EXITED);
      await lock.releaseStarted.promise;
      expect(lock.releasesPending).toBe(1);
      expect(lock.releasesDone).toBe(0);
      release.resolve();
    } finally {
      release.resolve();
      await server.close();
    }
  });

  it("has shutdown wait for the release before it stops", async () => {
    const lines: string[] = [];
    const waiting = deferred();
    const log = pino(
      { level: "info" },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          if (chunk.toString().includes("lock releases in flight")) waiting.resolve();
          done();
        },
      }),
    );
    const lock = new GatedLock();
    const release = deferred();
    lock.releaseGate = release.promise;
    const server = await startTestServer({ adapters: { lock, log } });
    const orderNo = await registerTracker(server);
    expect((await server.exits.executeExit(exitRequest(orderNo))).result?.status).toBe(ExitStatus.EXITED);
    let stopped = false;
    const stopping = server.close().then(() => (stopped = true));
    await waiting.promise;
    expect(stopped).toBe(false);
    expect(lock.releasesDone).toBe(0);
    release.resolve();
    await stopping;
    expect(lock.releasesDone).toBe(1);
  });
});
