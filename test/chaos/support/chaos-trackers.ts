/**
 * The positions a scenario exits: registered through one server, priced by a
 * tick published to every server, and read back at the end through the
 * public API (ListTrackers). `waitUntilSettled` is how a scenario waits for
 * the reconcilers: it polls, with a bound, never sleeps a fixed time.
 */
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Side, TrackerStatus, type Tracker } from "../../../gen/tradingcore/v1/common_pb.js";
import { ExitService } from "../../../gen/tradingcore/v1/exit_pb.js";
import { TickService } from "../../../gen/tradingcore/v1/tick_pb.js";
import { createGrpcJsClient } from "../../../src/client/grpc-js-client.js";
import { CHAOS_INSTRUMENT } from "./chaos-fleet.js";
import type { SeededRandom } from "./seeded-random.js";

const QUANTITIES = ["25", "50", "75", "100", "150"];
export const CHAOS_LTP = "104.35";

/** Registers `count` ACTIVE paper trackers with seeded quantities (under `sessionId` when given); answers their order_nos. */
export async function registerTrackers(
  address: string,
  label: string,
  count: number,
  random: SeededRandom,
  sessionId?: string,
): Promise<string[]> {
  const exits = createGrpcJsClient(ExitService, address);
  try {
    const orderNos = Array.from({ length: count }, (_, i) => `CH-${label}-${random.seed}-${i}`);
    const quantities = orderNos.map(() => random.pick(QUANTITIES));
    let next = 0;
    const worker = async () => {
      while (next < orderNos.length) {
        const i = next++;
        await exits.registerTracker({
          orderNo: orderNos[i]!,
          ...CHAOS_INSTRUMENT,
          symbol: "NIFTY24DEC24000CE",
          side: i % 2 === 0 ? Side.LONG : Side.SHORT,
          quantity: quantities[i]!,
          entryPrice: "101.55",
          paper: true,
          ...(sessionId ? { sessionId } : {}),
        });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    return orderNos;
  } finally {
    exits.close();
  }
}

/** Publishes the chaos instrument's tick to each server, so each prices exits from its own memory. */
export async function publishTick(addresses: readonly string[], ltp = CHAOS_LTP): Promise<void> {
  await Promise.all(
    addresses.map(async (address) => {
      const ticks = createGrpcJsClient(TickService, address);
      try {
        await ticks.publishTicks([{ ticks: [{ instrument: CHAOS_INSTRUMENT, ltp, time: timestampFromMs(Date.now()) }] }]);
      } finally {
        ticks.close();
      }
    }),
  );
}

/** Every tracker of `orderNos`, as `address` reads it now. */
export async function readTrackers(address: string, orderNos: readonly string[]): Promise<Map<string, Tracker>> {
  const wanted = new Set(orderNos);
  const found = new Map<string, Tracker>();
  const exits = createGrpcJsClient(ExitService, address);
  try {
    let pageToken = "";
    do {
      const page = await exits.listTrackers({ pageSize: 1000, pageToken }, { timeoutMs: 30_000 });
      for (const tracker of page.trackers) if (wanted.has(tracker.orderNo)) found.set(tracker.orderNo, tracker);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return found;
  } finally {
    exits.close();
  }
}

export interface SettleResult {
  readonly trackers: Map<string, Tracker>;
  /** Order_nos still EXITING when the bound ran out. */
  readonly stuck: string[];
  readonly waitedMs: number;
}

/**
 * Polls until none of `orderNos` is EXITING (the reconcilers have resolved
 * every intent), or `boundMs` has passed; answers the last state read.
 */
export async function waitUntilSettled(address: () => string, orderNos: readonly string[], boundMs: number): Promise<SettleResult> {
  const started = Date.now();
  for (;;) {
    let trackers: Map<string, Tracker> | undefined;
    try {
      trackers = await readTrackers(address(), orderNos);
    } catch {
      // A server or the store is still coming back; poll again.
    }
    const stuck = trackers ? orderNos.filter((orderNo) => trackers.get(orderNo)?.status === TrackerStatus.EXITING) : [...orderNos];
    const waitedMs = Date.now() - started;
    if (trackers && stuck.length === 0) return { trackers, stuck, waitedMs };
    if (waitedMs > boundMs) return { trackers: trackers ?? new Map(), stuck, waitedMs };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
