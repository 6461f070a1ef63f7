/**
 * The ExitTrail contract, run against every adapter (memory, and Redis
 * Streams on a real redis-server): what WatchExits and QueryExits rely on
 * whichever trail is configured. Then what only a shared trail can do: two
 * processes, one order; an append sent twice is appended once.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { ExitEventKind } from "../../../gen/tradingcore/v1/exit_pb.js";
import { isTradingCoreError } from "../../../src/domain/trading-core-error.js";
import type { TrackerRecord } from "../../../src/domain/tracker.js";
import { ExitEventHub } from "../../../src/exit/exit-event-hub.js";
import type { ExitTrail, SequencedExitEvent, TrailRetention } from "../../../src/exit/exit-trail.js";
import type { Clock, ExitEventRecord } from "../../../src/exit/ports.js";
import { queryTrail } from "../../../src/exit/trail-query.js";
import { watchTrail } from "../../../src/exit/trail-watch.js";
import { MemoryTrackerStore } from "../../../src/store/memory-tracker-store.js";
import { MemoryExitTrail } from "../../../src/trail/memory-exit-trail.js";
import { trackerSpec } from "../../support/exit-fixtures.js";
import { redisTrailHarnessForFile } from "../../support/redis-trail.js";

const SLOW = 60_000;
const redis = redisTrailHarnessForFile(SLOW);
const ROOMY: TrailRetention = { maxEvents: 100_000, maxAgeMs: 0 };

/**
 * Real time plus an offset the test moves: Redis numbers entries by its own
 * clock, so a trail's clock must stay near it. Sleeps are real: only a flush
 * waiting for Redis to answer sleeps, and it ends as soon as Redis does.
 */
class OffsetClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  async sleep(ms: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}

type MakeTrail = (clock: Clock, retention: TrailRetention) => Promise<ExitTrail>;
const adapters: Array<[string, MakeTrail]> = [
  ["MemoryExitTrail", async (clock, retention) => new MemoryExitTrail(() => clock.now(), retention, "test-process")],
  ["RedisExitTrail", (clock, retention) => redis().trail({ clock, retention })],
];

afterEach(async () => {
  await redis().release();
}, SLOW);

const trackers = new Map<string, TrackerRecord>();
async function trackerOf(orderNo: string): Promise<TrackerRecord> {
  const known = trackers.get(orderNo);
  if (known) return known;
  const { tracker } = await new MemoryTrackerStore().register(trackerSpec(orderNo), 1_700_000_000_000);
  const exiting = {
    ...tracker,
    status: TrackerStatus.EXITING,
    exitReason: `stop loss ${orderNo}`,
    exitReasonCode: ExitReasonCode.STOP_LOSS,
  };
  trackers.set(orderNo, exiting);
  return exiting;
}

async function eventOf(orderNo: string, message: string, kind = ExitEventKind.INTENT, status?: ExitStatus): Promise<ExitEventRecord> {
  const tracker = await trackerOf(orderNo);
  return { kind, tracker, ...(status === undefined ? {} : { status }), correlationId: `c-${orderNo}`, timeMs: 1_700_000_000_500, message };
}

async function publishAll(trail: ExitTrail, events: readonly ExitEventRecord[]): Promise<void> {
  for (const event of events) trail.publish(event);
  expect(await trail.flush(10_000)).toBe(true);
}

/** Everything the trail keeps, oldest first, read in small pages. */
async function readAll(trail: ExitTrail): Promise<SequencedExitEvent[]> {
  const all: SequencedExitEvent[] = [];
  for (;;) {
    const page = await trail.read({ after: all.at(-1)?.sequence ?? -1n }, 7);
    all.push(...page);
    if (page.length < 7) return all;
  }
}

/** The next `count` events of a watch; fails (not a timing assertion) when they do not come within 20 s. */
async function take(watch: AsyncIterator<SequencedExitEvent>, count: number): Promise<SequencedExitEvent[]> {
  const taken: SequencedExitEvent[] = [];
  const deadline = Date.now() + 20_000;
  while (taken.length < count) {
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([
      watch.next(),
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`only ${taken.length} of ${count} events came`)), deadline - Date.now())),
      ),
    ]).finally(() => clearTimeout(timer));
    if (next.done) break;
    taken.push(next.value);
  }
  return taken;
}

/** Events of a watch up to the one with this message. */
async function takeUntil(watch: AsyncIterator<SequencedExitEvent>, message: string): Promise<SequencedExitEvent[]> {
  const taken: SequencedExitEvent[] = [];
  while (taken.at(-1)?.message !== message) {
    const [next] = await take(watch, 1);
    if (!next) break;
    taken.push(next);
  }
  return taken;
}

const messagesOf = (events: readonly SequencedExitEvent[]) => events.map((event) => event.message);

function expectRising(events: readonly SequencedExitEvent[]): void {
  for (let i = 1; i < events.length; i++) expect(events[i]!.sequence > events[i - 1]!.sequence, `event ${i}`).toBe(true);
}

describe.each(adapters)("%s", (_name, makeTrail) => {
  describe("when events are published", () => {
    it("keeps each once, in publish order, with rising sequences and the recording process", async () => {
      const trail = await makeTrail(new OffsetClock(), ROOMY);
      const published = await Promise.all(Array.from({ length: 20 }, (_, i) => eventOf(`T${i % 3}`, `e${i}`)));
      await publishAll(trail, published);
      const kept = await readAll(trail);
      expect(messagesOf(kept)).toEqual(published.map((event) => event.message));
      expect(kept.map((event) => event.sequence)).toEqual(published.map((_, i) => BigInt(i + 1)));
      expect(kept.every((event, i) => i === 0 || event.appendedMs >= kept[i - 1]!.appendedMs)).toBe(true);
      expect(kept[0]).toMatchObject({
        process: "test-process",
        kind: ExitEventKind.INTENT,
        correlationId: "c-T0",
        timeMs: 1_700_000_000_500,
      });
      expect(kept[0]!.tracker).toEqual(await trackerOf("T0"));
      expect(Math.abs(kept[0]!.appendedMs - Date.now())).toBeLessThan(3_600_000);
    });

    it("reads a range after one sequence and before another, at most the limit", async () => {
      const trail = await makeTrail(new OffsetClock(), ROOMY);
      await publishAll(trail, await Promise.all(Array.from({ length: 10 }, (_, i) => eventOf("R", `e${i}`))));
      const all = await readAll(trail);
      expect(messagesOf(await trail.read({ after: all[2]!.sequence, before: all[6]!.sequence }, 100))).toEqual(["e3", "e4", "e5"]);
      expect(messagesOf(await trail.read({ after: all[2]!.sequence }, 2))).toEqual(["e3", "e4"]);
      expect(await trail.read({ after: all[9]!.sequence }, 10)).toEqual([]);
    });

    it("delivers every appended event to its follower, in sequence order", async () => {
      const trail = await makeTrail(new OffsetClock(), ROOMY);
      const hub = new ExitEventHub(100);
      await trail.follow((event) => hub.deliver(event));
      const watch = hub.watch();
      await publishAll(trail, await Promise.all(Array.from({ length: 12 }, (_, i) => eventOf("F", `e${i}`))));
      const delivered = await take(watch, 12);
      expect(delivered.map((event) => event.sequence)).toEqual((await readAll(trail)).map((event) => event.sequence));
    });
  });

  describe("with a retention bound", () => {
    it("drops the oldest events past the count, and says up to which sequence", async () => {
      const trail = await makeTrail(new OffsetClock(), { maxEvents: 10, maxAgeMs: 0 });
      await publishAll(trail, await Promise.all(Array.from({ length: 40 }, (_, i) => eventOf("N", `e${i}`))));
      const kept = await readAll(trail);
      // Redis trims whole stream nodes (4 entries in these tests): at least the bound is kept, at most a node more.
      expect(kept.length).toBeGreaterThanOrEqual(10);
      expect(kept.length).toBeLessThanOrEqual(14);
      expect(messagesOf(kept).at(-1)).toBe("e39");
      expect(await trail.trimmedThrough()).toBe(kept[0]!.sequence - 1n);
      expect(kept.at(-1)!.sequence).toBe(40n);
      expect(messagesOf(await trail.read({ after: 0n }, 100))).toEqual(messagesOf(kept));
    });

    it("drops the events older than the age bound", async () => {
      const clock = new OffsetClock();
      const trail = await makeTrail(clock, { maxEvents: 1_000, maxAgeMs: 60_000 });
      await publishAll(trail, await Promise.all(Array.from({ length: 12 }, (_, i) => eventOf("A", `old${i}`))));
      clock.offsetMs = 120_000;
      await publishAll(trail, [await eventOf("A", "new")]);
      expect(messagesOf(await readAll(trail))).toEqual(["new"]);
      expect(await trail.trimmedThrough()).toBe(12n);
    });

    it("has dropped nothing while under its bounds", async () => {
      const trail = await makeTrail(new OffsetClock(), ROOMY);
      await publishAll(trail, [await eventOf("Z", "only")]);
      expect(await trail.trimmedThrough()).toBe(0n);
    });
  });

  describe("watched with a replay", () => {
    it("replays from a sequence, then follows live, with no gap and no repeat though events arrive during the replay", async () => {
      const trail = await makeTrail(new OffsetClock(), ROOMY);
      const hub = new ExitEventHub(64);
      await trail.follow((event) => hub.deliver(event));
      await publishAll(trail, await Promise.all(Array.from({ length: 600 }, (_, i) => eventOf("W", `before${i}`))));
      const start = (await readAll(trail))[99]!.sequence;
      // Each replay read lets more events be appended before it answers, so the replay chases a moving end.
      let during = 0;
      const chased: ExitTrail = Object.create(trail) as ExitTrail;
      chased.read = async (range, limit) => {
        if (during < 5) await publishAll(trail, await Promise.all(Array.from({ length: 30 }, () => eventOf("W", `during${during++}`))));
        return trail.read(range, limit);
      };
      const watch = watchTrail(chased, hub, { afterSequence: start });
      const replayed = await take(watch, 500);
      await publishAll(trail, await Promise.all(Array.from({ length: 20 }, (_, i) => eventOf("W", `live${i}`))));
      const seen = [...replayed, ...(await takeUntil(watch, "live19"))];
      await watch.return?.(undefined);
      expect(during).toBeGreaterThanOrEqual(3);
      expectRising(seen);
      expect(seen.map((event) => event.sequence)).toEqual((await trail.read({ after: start }, 10_000)).map((event) => event.sequence));
      expect(messagesOf(seen).at(-1)).toBe("live19");
    });

    it("replays from a time the events appended since then", async () => {
      const trail = await makeTrail(new OffsetClock(), ROOMY);
      const hub = new ExitEventHub(64);
      await trail.follow((event) => hub.deliver(event));
      await publishAll(trail, await Promise.all(Array.from({ length: 5 }, (_, i) => eventOf("TM", `e${i}`))));
      const all = await readAll(trail);
      const fromMs = all[2]!.appendedMs;
      const since = all.filter((event) => event.appendedMs >= fromMs);
      const watch = watchTrail(trail, hub, { fromMs });
      const seen = await take(watch, since.length);
      await watch.return?.(undefined);
      expect(seen.map((event) => event.sequence)).toEqual(since.map((event) => event.sequence));
    });

    it("replays only the watched tracker's events when filtered by order_no", async () => {
      const trail = await makeTrail(new OffsetClock(), ROOMY);
      const hub = new ExitEventHub(64);
      await trail.follow((event) => hub.deliver(event));
      await publishAll(trail, await Promise.all(["A", "B", "A", "B"].map((orderNo, i) => eventOf(orderNo, `e${i}`))));
      const watch = watchTrail(trail, hub, { afterSequence: 1n, orderNo: "B" });
      expect(messagesOf(await take(watch, 2))).toEqual(["e1", "e3"]);
      await watch.return?.(undefined);
    });

    it("refuses a sequence whose successors retention dropped, naming the oldest kept", async () => {
      const trail = await makeTrail(new OffsetClock(), { maxEvents: 10, maxAgeMs: 0 });
      await publishAll(trail, [await eventOf("O", "first")]);
      const first = (await readAll(trail))[0]!.sequence;
      await publishAll(trail, await Promise.all(Array.from({ length: 40 }, (_, i) => eventOf("O", `e${i}`))));
      const oldest = (await readAll(trail))[0]!.sequence;
      const failure = await watchTrail(trail, new ExitEventHub(8), { afterSequence: first })
        .next()
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(isTradingCoreError(failure, "out-of-range")).toBe(true);
      expect((failure as Error).message).toContain(`the oldest kept is sequence ${oldest}`);
      const fromTime = await watchTrail(trail, new ExitEventHub(8), { fromMs: 0 })
        .next()
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(isTradingCoreError(fromTime, "out-of-range")).toBe(true);
    });

    it("refuses a sequence past the newest event, which it never issued", async () => {
      const trail = await makeTrail(new OffsetClock(), ROOMY);
      await publishAll(trail, await Promise.all(Array.from({ length: 3 }, (_, i) => eventOf("FUT", `e${i}`))));
      const failure = await watchTrail(trail, new ExitEventHub(8), { afterSequence: 4n })
        .next()
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(isTradingCoreError(failure, "out-of-range")).toBe(true);
      expect((failure as Error).message).toContain("past the newest event of the trail (sequence 3)");
      const caughtUp = watchTrail(trail, new ExitEventHub(8), { afterSequence: 3n });
      await publishAll(trail, [await eventOf("FUT", "next")]);
      expect((await take(caughtUp, 1))[0]?.message).toBe("next");
      await caughtUp.return?.(undefined);
    });

    it("resumes after a sequence retention dropped when its successor is kept", async () => {
      const trail = await makeTrail(new OffsetClock(), { maxEvents: 10, maxAgeMs: 0 });
      await publishAll(trail, await Promise.all(Array.from({ length: 40 }, (_, i) => eventOf("K", `e${i}`))));
      const trimmed = await trail.trimmedThrough();
      const watch = watchTrail(trail, new ExitEventHub(8), { afterSequence: trimmed });
      const [first] = await take(watch, 1);
      await watch.return?.(undefined);
      expect(first!.sequence).toBe(trimmed + 1n);
    });

    it("drops a watcher that falls behind, which resumes from its last sequence without a gap", async () => {
      const trail = await makeTrail(new OffsetClock(), ROOMY);
      const hub = new ExitEventHub(4);
      await trail.follow((event) => hub.deliver(event));
      const watch = watchTrail(trail, hub, {});
      await publishAll(trail, await Promise.all(Array.from({ length: 20 }, (_, i) => eventOf("S", `e${i}`))));
      const got: SequencedExitEvent[] = [];
      const failure = await (async () => {
        for await (const event of watch) got.push(event);
      })().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isTradingCoreError(failure, "resource-exhausted")).toBe(true);
      expect((failure as Error).message).toContain(`dropped after event ${got.at(-1)!.sequence}`);
      const resumed = watchTrail(trail, hub, { afterSequence: got.at(-1)!.sequence });
      const rest = await take(resumed, 20 - got.length);
      await resumed.return?.(undefined);
      expect(messagesOf([...got, ...rest])).toEqual(Array.from({ length: 20 }, (_, i) => `e${i}`));
    });
  });

  describe("queried", () => {
    it("pages through the matching events with no repeat, then ends", async () => {
      const trail = await makeTrail(new OffsetClock(), ROOMY);
      const kinds = [ExitEventKind.INTENT, ExitEventKind.ROUTER_ACCEPTED, ExitEventKind.EXITED];
      const events = await Promise.all(
        Array.from({ length: 30 }, (_, i) => eventOf(`Q${i % 5}`, `e${i}`, kinds[i % 3]!, i % 3 === 2 ? ExitStatus.EXITED : undefined)),
      );
      await publishAll(trail, events);
      const pages: string[][] = [];
      let after: bigint | undefined;
      do {
        const page = await queryTrail(trail, { status: ExitStatus.EXITED }, { ...(after === undefined ? {} : { after }), limit: 3 });
        pages.push(messagesOf(page.events));
        after = page.nextAfter;
      } while (after !== undefined);
      expect(pages.flat()).toEqual(events.filter((_, i) => i % 3 === 2).map((event) => event.message));
      expect(pages.slice(0, -1).every((page) => page.length === 3)).toBe(true);
      const q1 = await queryTrail(trail, { orderNo: "Q1", kind: ExitEventKind.ROUTER_ACCEPTED }, { limit: 100 });
      expect(messagesOf(q1.events)).toEqual(["e1", "e16"]);
      expect((await queryTrail(trail, { reason: "stop loss Q4" }, { limit: 100 })).events).toHaveLength(6);
    });

    it("answers a short page with a next cursor when its scan budget is spent", async () => {
      const trail = await makeTrail(new OffsetClock(), ROOMY);
      await publishAll(trail, await Promise.all(Array.from({ length: 30 }, (_, i) => eventOf(i === 25 ? "NEEDLE" : "HAY", `e${i}`))));
      const first = await queryTrail(trail, { orderNo: "NEEDLE" }, { limit: 10 }, 20);
      expect(first.events).toEqual([]);
      expect(first.nextAfter).toBeDefined();
      const second = await queryTrail(trail, { orderNo: "NEEDLE" }, { after: first.nextAfter!, limit: 10 }, 20);
      expect(messagesOf(second.events)).toEqual(["e25"]);
      expect(second.nextAfter).toBeUndefined();
    });

    it("keeps to the time range, the end excluded", async () => {
      const trail = await makeTrail(new OffsetClock(), ROOMY);
      await publishAll(trail, await Promise.all(Array.from({ length: 6 }, (_, i) => eventOf("TR", `e${i}`))));
      const all = await readAll(trail);
      const toMs = all[5]!.appendedMs;
      const page = await queryTrail(trail, { fromMs: all[0]!.appendedMs, toMs }, { limit: 100 });
      expect(messagesOf(page.events)).toEqual(messagesOf(all.filter((event) => event.appendedMs < toMs)));
    });
  });
});

describe("RedisExitTrail shared by two processes", () => {
  it("gives both followers the events of both processes, in one order", async () => {
    const keyPrefix = `shared:${process.pid}:${Date.now()}:`;
    const clock = new OffsetClock();
    const [a, b] = await Promise.all([
      redis().trail({ clock, retention: ROOMY, keyPrefix, process: "A" }),
      redis().trail({ clock, retention: ROOMY, keyPrefix, process: "B" }),
    ]);
    const [hubA, hubB] = [new ExitEventHub(100), new ExitEventHub(100)];
    await Promise.all([a.follow((event) => hubA.deliver(event)), b.follow((event) => hubB.deliver(event))]);
    const [watchA, watchB] = [hubA.watch(), hubB.watch()];
    for (let i = 0; i < 10; i++) (i % 2 === 0 ? a : b).publish(await eventOf("P", `e${i}`));
    expect(await a.flush(10_000)).toBe(true);
    expect(await b.flush(10_000)).toBe(true);
    const [seenA, seenB] = await Promise.all([take(watchA, 10), take(watchB, 10)]);
    expect(seenA.map((event) => event.sequence)).toEqual(seenB.map((event) => event.sequence));
    expect(seenA.map((event) => event.process).sort()).toEqual([..."AAAAABBBBB"]);
    expectRising(seenA);
  });
});

describe("RedisExitTrail when its connections are cut", () => {
  it("appends what was queued and follows on from its last entry once they are back, with no gap", async () => {
    const trail = await redis().trail({ clock: new OffsetClock(), retention: ROOMY });
    const hub = new ExitEventHub(100);
    await trail.follow((event) => hub.deliver(event));
    const watch = hub.watch();
    await publishAll(trail, await Promise.all(Array.from({ length: 5 }, (_, i) => eventOf("CUT", `e${i}`))));
    expect(messagesOf(await take(watch, 5))).toEqual(["e0", "e1", "e2", "e3", "e4"]);
    const inspector = await redis().inspector();
    await inspector.sendCommand(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]);
    await publishAll(trail, await Promise.all(Array.from({ length: 5 }, (_, i) => eventOf("CUT", `e${i + 5}`))));
    const after = await take(watch, 5);
    expect(after.map((event) => event.sequence)).toEqual([6n, 7n, 8n, 9n, 10n]);
  });
});

describe("RedisExitTrail's append when a reply is lost", () => {
  it("appends a batch sent again only once", async () => {
    const keyPrefix = `again:${process.pid}:${Date.now()}:`;
    const client = await redis().inspector();
    const keys = [`${keyPrefix}exit-trail`, `${keyPrefix}exit-trail:appended`, `${keyPrefix}exit-trail:state`] as const;
    const batch = ["P1", "1000", "0", "0", "1", "message", "1", "first", "2", "second"];
    expect(await client.trailAppend(keys, batch)).toBe(2);
    expect(await client.trailAppend(keys, batch)).toBe(0);
    expect(await client.trailAppend(keys, [...batch, "3", "third"])).toBe(1);
    expect(await client.xLen(keys[0])).toBe(3);
    expect(((await client.sendCommand(["XRANGE", keys[0], "-", "+"])) as Array<[string]>).map(([id]) => id)).toEqual(["1-0", "2-0", "3-0"]);
  });
});
