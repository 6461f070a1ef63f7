/**
 * The protective-exit rows of `npm run bench`, side by side in one run:
 *
 * - ingest: PublishTicks throughput into a server protecting 10,000 armed
 *   trackers over the 1,000 instruments the ticks are for (half fixed stop
 *   loss / take profit levels, half trailing stops the ticks move), against
 *   a server holding the same 10,000 trackers without plans (the same store
 *   and heap, nothing to protect); rounds alternate between the two. The
 *   rounds come in cycles of three, one trending for the trails (every tick
 *   a new high, a point above the last cycle's) and two quiet (the same
 *   prices again): `rounds` cycles, at most MAX_MIX_CYCLES.
 * - tick to order: while ticks stream into the armed server as fast as it
 *   takes them, one crossing tick at a time is sent for a probe tracker (a
 *   stop loss on one of those instruments) on a stream of its own; timed on
 *   this process's clock from the moment it is written to the moment the
 *   server's ROUTER_ACCEPTED event for the probe arrives on WatchExits (the
 *   router call happened between the two). An upper bound: it includes both
 *   transits and the event's way back.
 *
 * - ingest in a sustained trend: after the tick-to-order probes, the same
 *   two servers take rounds in which every tick is a new high for each trail
 *   of its instrument (a hundredth more per batch, on and on): the worst case
 *   for the trailing stops (on the Redis store every flush would write all
 *   5,000 of them; these servers run on the embedded one, not written on a timer).
 *
 * No level of the background trackers is reached by the ingest's prices
 * (100.00 to 149.99 plus a point per cycle, and on from there by a
 * hundredth per batch in the trend): the rows measure evaluation, not exits.
 *
 * Fairness: each server gets the same warm-up, the first ten batches five
 * times over (prices up to x.09: the trails arm and rise to there, as with
 * one pass, so the measured rounds still begin with the same run of new
 * highs). One pass of ten batches used to be all: the garbage of the 10,000
 * registrations and the first optimising compilations then landed in
 * whichever measured round they fell in, a swing of tens of percent on a
 * 0.3-second round. Beside the throughput, each server's CPU time per
 * ingested tick over the same rounds is reported: on a busy shared machine
 * it moves far less than wall-clock throughput does.
 */
import { ExitEventKind, ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import { Segment, Side } from "../../gen/tradingcore/v1/common_pb.js";
import { TickService } from "../../gen/tradingcore/v1/tick_pb.js";
import { createGrpcJsClient } from "../client/grpc-js-client.js";
import { measureIngest, runConcurrently } from "./bench-driver.js";
import { type LatencySummary, summarize } from "./latency-stats.js";

export interface ProtectionBenchSettings {
  readonly rounds: number;
  readonly trackers: number;
  readonly instruments: number;
  readonly probes: number;
  readonly batches: number;
  readonly batchSize: number;
}

export interface ProtectionBenchResult {
  readonly trackers: number;
  readonly instruments: number;
  readonly ingestArmedTicksPerSecond: number;
  readonly ingestBareTicksPerSecond: number;
  /** Armed throughput over bare throughput. */
  readonly ingestRatio: number;
  /** Server CPU time per ingested tick over the measured rounds, µs, when the caller could read it. */
  readonly ingestCpuMicrosPerTick?: { readonly armed: number; readonly bare: number };
  /**
   * The same per measured round (the first of every three is a trending market for the trailing stops, the
   * two after it are not): tells a cost of the trend from one of every tick.
   */
  readonly ingestCpuMicrosPerTickByRound?: ReadonlyArray<{ readonly armed: number; readonly bare: number }>;
  /** The same three figures in a sustained trend (every tick a new high for the trails). */
  readonly trendArmedTicksPerSecond: number;
  readonly trendBareTicksPerSecond: number;
  readonly trendRatio: number;
  readonly trendCpuMicrosPerTick?: { readonly armed: number; readonly bare: number };
  /** The stores' own CPU per tick (each server's redis-server), in the mixed and the trending rounds, when the caller could read it. */
  readonly ingestStoreCpuMicrosPerTick?: { readonly armed: number; readonly bare: number };
  readonly trendStoreCpuMicrosPerTick?: { readonly armed: number; readonly bare: number };
  readonly tickToOrder: LatencySummary;
  /** Ticks per second the background stream achieved while the probes were timed. */
  readonly backgroundTicksPerSecond: number;
  readonly probes: number;
  /** Probes whose ROUTER_ACCEPTED never arrived within 10 s (the warm-up included). */
  readonly missed: number;
}

const PROBE_TIMEOUT_MS = 10_000;
/** Passes over the first ten batches before the measured rounds, on each server. */
const WARM_UP_PASSES = 5;

/** A server's CPU time so far (user + system), µs. */
export type ServerCpu = () => Promise<number>;
/** The armed side's and the unarmed side's. */
export interface SideCpu {
  readonly armed: ServerCpu;
  readonly bare: ServerCpu;
}
const RUN = `${process.pid.toString(36)}${Date.now().toString(36)}`;

/**
 * Registers the background trackers on `address`: tracker i on instrument T{i mod instruments},
 * with its exit plan when `armed`, without one otherwise (the same store, nothing to protect).
 */
async function registerTrackers(address: string, settings: ProtectionBenchSettings, armed: boolean): Promise<void> {
  const clients = Array.from({ length: 4 }, () => createGrpcJsClient(ExitService, address));
  try {
    await runConcurrently(settings.trackers, 128, async (index) => {
      const exitPlan =
        index % 2 === 0
          ? {
              stopLoss: { level: { case: "price" as const, value: "50" } },
              takeProfit: { level: { case: "price" as const, value: "1000" } },
            }
          : { trailingStop: { distance: { distance: { case: "points" as const, value: "60" } } } };
      await clients[index % clients.length]!.registerTracker({
        orderNo: `PB${RUN}-${armed ? "A" : "U"}${index}`,
        segment: Segment.NSE_FNO,
        securityId: `T${index % settings.instruments}`,
        symbol: "BENCH",
        side: Side.LONG,
        quantity: "75",
        entryPrice: "100",
        paper: true,
        ...(armed ? { exitPlan } : {}),
      });
    });
  } finally {
    for (const client of clients) client.close();
  }
}

/**
 * Cycles of the mix at most: the trails rise a point per cycle, and the probes' crossing tick (94) must stay above every
 * trail of their instruments (60 points below highs of up to 149.99 plus a point per cycle).
 */
const MAX_MIX_CYCLES = 3;

function mixCycles(settings: ProtectionBenchSettings): number {
  return Math.max(1, Math.min(settings.rounds, MAX_MIX_CYCLES));
}

/** An ingest tick's price: its instrument's base (100 to 149), `points` more, a hundredth more per batch. */
function priceAt(settings: ProtectionBenchSettings, points: number, batch: number, index: number): string {
  const instrument = (batch * settings.batchSize + index) % 1000;
  return (100 + (instrument % 50) + points + batch / 100).toFixed(2);
}

/**
 * The mix's round `round`: the first of each cycle rises a hundredth per batch from a point above the last cycle's (every
 * tick a new high for the trails; in the first cycle, once past the warm-up's x.09), the two others repeat its prices.
 */
function mixPrice(settings: ProtectionBenchSettings, round: number) {
  const cycle = Math.floor(round / 3);
  return (batch: number, index: number) => priceAt(settings, cycle, batch, index);
}

/** The trend's price: a hundredth more per batch since the start of the trend, which starts above the mix's last high. */
function trendPrice(settings: ProtectionBenchSettings, round: number) {
  return (batch: number, index: number) => priceAt(settings, mixCycles(settings), round * settings.batches + batch, index);
}

/**
 * `rounds` rounds on each server, alternating which goes first; `priceOf(round)` prices a round's ticks.
 */
async function ingestRounds(
  armed: string,
  bare: string,
  settings: ProtectionBenchSettings,
  rounds: number,
  priceOf: (round: number) => (batch: number, index: number) => string,
  cpu?: SideCpu,
  storeCpu?: SideCpu,
) {
  const totals = {
    armed: { ticks: 0, ms: 0, cpuMicros: 0, storeCpuMicros: 0 },
    bare: { ticks: 0, ms: 0, cpuMicros: 0, storeCpuMicros: 0 },
  };
  const byRound: Array<{ armed: number; bare: number }> = [];
  for (let round = 0; round < rounds; round++) {
    const thisRound = { armed: 0, bare: 0 };
    const order: Array<[keyof typeof totals, string]> = [
      ["armed", armed],
      ["bare", bare],
    ];
    for (const [which, address] of round % 2 === 0 ? order : order.reverse()) {
      const cpuBefore = (await cpu?.[which]()) ?? 0;
      const storeCpuBefore = (await storeCpu?.[which]()) ?? 0;
      const result = await measureIngest(address, settings.batches, settings.batchSize, priceOf(round));
      const cpuMicros = ((await cpu?.[which]()) ?? 0) - cpuBefore;
      totals[which].storeCpuMicros += ((await storeCpu?.[which]()) ?? 0) - storeCpuBefore;
      totals[which].cpuMicros += cpuMicros;
      thisRound[which] = cpuMicros / result.ticks;
      totals[which].ticks += result.ticks;
      totals[which].ms += result.ms;
    }
    byRound.push(thisRound);
  }
  return {
    armed: (totals.armed.ticks * 1000) / totals.armed.ms,
    bare: (totals.bare.ticks * 1000) / totals.bare.ms,
    ...(cpu
      ? {
          cpuMicrosPerTick: { armed: totals.armed.cpuMicros / totals.armed.ticks, bare: totals.bare.cpuMicros / totals.bare.ticks },
          cpuMicrosPerTickByRound: byRound,
        }
      : {}),
    ...(storeCpu
      ? {
          storeCpuMicrosPerTick: {
            armed: totals.armed.storeCpuMicros / totals.armed.ticks,
            bare: totals.bare.storeCpuMicros / totals.bare.ticks,
          },
        }
      : {}),
  };
}

async function tickToOrder(address: string, settings: ProtectionBenchSettings) {
  const exits = createGrpcJsClient(ExitService, address);
  const ticks = createGrpcJsClient(TickService, address);
  // Probe 0 is a warm-up (the watch may not be subscribed yet when it fires); it is not timed.
  const probes = Array.from({ length: settings.probes + 1 }, (_, i) => ({
    orderNo: `PP${RUN}-${i}`,
    securityId: `T${i % settings.instruments}`,
  }));
  const accepted = new Map<string, () => void>();
  const cancel = new AbortController();
  const watch = exits.watchExits({}, { signal: cancel.signal });
  const watching = (async () => {
    try {
      for await (const { event } of watch) {
        if (event?.kind === ExitEventKind.ROUTER_ACCEPTED) accepted.get(event.tracker?.orderNo ?? "")?.();
      }
    } catch {
      // Cancelled when the measurement ends.
    }
  })();
  let streaming = true;
  let backgroundTicks = 0;
  const background = (async () => {
    while (streaming) backgroundTicks += (await measureIngest(address, 20, settings.batchSize)).ticks;
  })();
  const latencies: number[] = [];
  let missed = 0;
  const started = performance.now();
  try {
    for (const probe of probes) {
      await exits.registerTracker({
        orderNo: probe.orderNo,
        segment: Segment.NSE_FNO,
        securityId: probe.securityId,
        symbol: "PROBE",
        side: Side.LONG,
        quantity: "75",
        entryPrice: "100",
        paper: true,
        exitPlan: { stopLoss: { level: { case: "price", value: "95" } } },
      });
      let timer: NodeJS.Timeout | undefined;
      const done = new Promise<boolean>((resolve) => {
        accepted.set(probe.orderNo, () => resolve(true));
        timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
      });
      const sent = performance.now();
      await ticks.publishTicks([{ ticks: [{ instrument: { segment: Segment.NSE_FNO, securityId: probe.securityId }, ltp: "94" }] }]);
      const seen = await done;
      clearTimeout(timer);
      if (seen && probe !== probes[0]) latencies.push(performance.now() - sent);
      else if (!seen) missed++;
      accepted.delete(probe.orderNo);
    }
  } finally {
    streaming = false;
    const elapsedMs = performance.now() - started;
    await background;
    cancel.abort();
    await watching;
    exits.close();
    ticks.close();
    // Counted per finished background stream; the last one may end after the probes.
    backgroundTicks = (backgroundTicks * 1000) / Math.max(elapsedMs, performance.now() - started);
  }
  return { latencies, backgroundTicksPerSecond: backgroundTicks, missed };
}

/**
 * Runs both measurements on `armed` (its trackers get plans) and `bare` (the same trackers, no plans);
 * `cpu` reads each server's CPU time, for the CPU per tick beside the throughput.
 */
export async function measureProtection(
  armed: string,
  bare: string,
  settings: ProtectionBenchSettings,
  cpu?: SideCpu,
  storeCpu?: SideCpu,
): Promise<ProtectionBenchResult> {
  const arming = performance.now();
  await Promise.all([registerTrackers(armed, settings, true), registerTrackers(bare, settings, false)]);
  process.stderr.write(
    `  protection: registered ${settings.trackers} trackers on each server in ${((performance.now() - arming) / 1000).toFixed(1)} s\n`,
  );
  for (let pass = 0; pass < WARM_UP_PASSES; pass++) {
    await measureIngest(armed, Math.min(10, settings.batches), settings.batchSize);
    await measureIngest(bare, Math.min(10, settings.batches), settings.batchSize);
  }
  const ingest = await ingestRounds(armed, bare, settings, 3 * mixCycles(settings), (round) => mixPrice(settings, round), cpu, storeCpu);
  const probed = await tickToOrder(armed, settings);
  // Last: its new highs raise the trails, and after a few rounds the probes' crossing ticks (94) would reach some.
  const trend = await ingestRounds(armed, bare, settings, settings.rounds, (round) => trendPrice(settings, round), cpu, storeCpu);
  return {
    trackers: settings.trackers,
    instruments: settings.instruments,
    ingestArmedTicksPerSecond: ingest.armed,
    ingestBareTicksPerSecond: ingest.bare,
    ingestRatio: ingest.armed / ingest.bare,
    ...(ingest.cpuMicrosPerTick ? { ingestCpuMicrosPerTick: ingest.cpuMicrosPerTick } : {}),
    ...(ingest.cpuMicrosPerTickByRound ? { ingestCpuMicrosPerTickByRound: ingest.cpuMicrosPerTickByRound } : {}),
    trendArmedTicksPerSecond: trend.armed,
    trendBareTicksPerSecond: trend.bare,
    trendRatio: trend.armed / trend.bare,
    ...(trend.cpuMicrosPerTick ? { trendCpuMicrosPerTick: trend.cpuMicrosPerTick } : {}),
    ...(ingest.storeCpuMicrosPerTick ? { ingestStoreCpuMicrosPerTick: ingest.storeCpuMicrosPerTick } : {}),
    ...(trend.storeCpuMicrosPerTick ? { trendStoreCpuMicrosPerTick: trend.storeCpuMicrosPerTick } : {}),
    tickToOrder: summarize(probed.latencies),
    backgroundTicksPerSecond: probed.backgroundTicksPerSecond,
    probes: settings.probes,
    missed: probed.missed,
  };
}

/** `store`: where both servers keep trackers and protection states, for the heading. */
export function formatProtection(result: ProtectionBenchResult, store: string): string {
  const k = (value: number) => `${(value / 1000).toFixed(1)}k/s`;
  return [
    `protective exits (${result.trackers} armed trackers over ${result.instruments} instruments; half fixed levels, half trailing; ${store}):`,
    `  PublishTicks ingest, armed ${k(result.ingestArmedTicksPerSecond)} vs none (the same trackers without plans) ${k(result.ingestBareTicksPerSecond)}: ${result.ingestRatio.toFixed(2)}x`,
    ...(result.ingestCpuMicrosPerTick
      ? [
          `  server CPU per ingested tick, armed ${result.ingestCpuMicrosPerTick.armed.toFixed(2)} µs vs none ${result.ingestCpuMicrosPerTick.bare.toFixed(2)} µs: ${(result.ingestCpuMicrosPerTick.bare / result.ingestCpuMicrosPerTick.armed).toFixed(2)}x the ticks per CPU second`,
        ]
      : []),
    ...(result.ingestCpuMicrosPerTickByRound
      ? [
          `    per round (the first of every three trending for the trails), armed vs none: ${result.ingestCpuMicrosPerTickByRound.map((round) => `${round.armed.toFixed(2)}/${round.bare.toFixed(2)} µs`).join(", ")}`,
        ]
      : []),
    `  PublishTicks ingest in a sustained trend (every tick a new high for the trails), armed ${k(result.trendArmedTicksPerSecond)} vs none ${k(result.trendBareTicksPerSecond)}: ${result.trendRatio.toFixed(2)}x${
      result.trendCpuMicrosPerTick
        ? `; server CPU per tick ${result.trendCpuMicrosPerTick.armed.toFixed(2)} µs vs ${result.trendCpuMicrosPerTick.bare.toFixed(2)} µs`
        : ""
    }`,
    ...(result.ingestStoreCpuMicrosPerTick && result.trendStoreCpuMicrosPerTick
      ? [
          `  store (redis-server) CPU per tick, armed vs none: ${result.ingestStoreCpuMicrosPerTick.armed.toFixed(2)} µs vs ${result.ingestStoreCpuMicrosPerTick.bare.toFixed(2)} µs mixed, ${result.trendStoreCpuMicrosPerTick.armed.toFixed(2)} µs vs ${result.trendStoreCpuMicrosPerTick.bare.toFixed(2)} µs in the trend`,
        ]
      : []),
    `  tick to order (crossing tick written -> ROUTER_ACCEPTED received), ${result.probes} probes while ${k(result.backgroundTicksPerSecond)} ingested: p50 ${result.tickToOrder.p50.toFixed(2)} ms, p99 ${result.tickToOrder.p99.toFixed(2)} ms${result.missed > 0 ? ` (${result.missed} missed)` : ""}`,
  ].join("\n");
}
