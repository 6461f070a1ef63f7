import { afterEach, describe, expect, it, vi } from "vitest";
import { Segment } from "../../../gen/tradingcore/v1/common_pb.js";
import { DhanMarketFeed } from "../../../src/dhan-feeds/dhan-market-feed.js";
import { DhanSimulator } from "../../../src/dhan-sim/dhan-simulator.js";
import { ManualSimClock } from "../../../src/dhan-sim/sim-clock.js";
import { Money } from "../../../src/domain/money.js";
import type { InstrumentKey } from "../../../src/exit/ports.js";
import { MemoryTickCache } from "../../../src/ticks/memory-tick-cache.js";
import { MemoryLog } from "../exit/exit-world.js";

let sim: DhanSimulator;
let feed: DhanMarketFeed;
afterEach(async () => {
  await feed?.stop();
  await sim?.stop();
});

async function feedOn(open: InstrumentKey[], silenceMs = 60_000) {
  // The simulator's manual clock never reaches a ping unless a test moves it: a feed left alone is silent.
  sim = await new DhanSimulator({ clock: new ManualSimClock() }).start();
  const cache = new MemoryTickCache(100);
  const log = new MemoryLog();
  feed = new DhanMarketFeed(
    {
      url: sim.marketFeedUrl,
      clientId: sim.account.clientId,
      token: () => sim.account.accessToken,
      refreshMs: 60_000,
      tickSizes: { defaultSize: new Money("0.05"), overrides: new Map() },
      reconnectInitialMs: 20,
      reconnectMaxMs: 100,
      silenceMs,
    },
    cache,
    async () => open,
    () => 1_000,
    log,
  );
  feed.start();
  return { cache, log };
}

const HDFC = { segment: Segment.NSE_EQ, securityId: "1333" };
const NIFTY_CE = { segment: Segment.NSE_FNO, securityId: "52175" };

describe("DhanMarketFeed against the simulator", () => {
  it("subscribes the open trackers' instruments and writes their ticks, rounded to the tick, into the sink", async () => {
    const { cache } = await feedOn([HDFC, NIFTY_CE]);
    await vi.waitFor(() => expect([...sim.marketFeed.subscribed()].sort()).toEqual(["NSE_EQ:1333", "NSE_FNO:52175"]));
    sim.tick("NSE_FNO", "52175", "101.55");
    await vi.waitFor(() => expect(cache.peek(NIFTY_CE)?.ltp.toFixed()).toBe("101.55"));
    expect(cache.peek(NIFTY_CE)?.timeMs).toBe(1_000);
  });

  it("unsubscribes the instrument of a tracker no longer open", async () => {
    const open = [HDFC, NIFTY_CE];
    await feedOn(open);
    await vi.waitFor(() => expect(sim.marketFeed.subscribed().size).toBe(2));
    open.pop();
    await feed.refresh();
    await vi.waitFor(() => expect([...sim.marketFeed.subscribed()]).toEqual(["NSE_EQ:1333"]));
  });

  it("gives up a connection that carries no frame for its silence limit, reconnects and subscribes again", async () => {
    const { log } = await feedOn([HDFC], 200);
    await vi.waitFor(() => expect(feed.opens).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
    expect(log.lines.some((line) => line.message.includes("silent for"))).toBe(true);
    await vi.waitFor(() => expect(sim.marketFeed.subscribed().has("NSE_EQ:1333")).toBe(true));
  });

  it("keeps a connection the server pings, however long no tick comes", async () => {
    await feedOn([HDFC], 5_000);
    await vi.waitFor(() => expect(sim.marketFeed.clients).toBe(1));
    // Each 10 s of the simulator's clock sends a ping; the feed answers it, so 80 s pass without the 40 s idle drop.
    for (let pings = 1; pings <= 8; pings++) {
      sim.advance(10_000);
      await vi.waitFor(() => expect(sim.marketFeed.pongs).toBe(pings));
    }
    expect(feed.opens).toBe(1);
    expect(sim.marketFeed.clients).toBe(1);
  });
});
