/**
 * What the bench does against a server: prepares each row's calls (trackers
 * for exits, a tick for GetLtp), times them at c=1 and at c=N with the
 * server's CPU, and the ingest and store-size sections.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ExitReasonCode, ExitStatus, Segment, Side } from "../../gen/tradingcore/v1/common_pb.js";
import { ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import { type PublishTicksResponse, PublishTicksRequestSchema, TickService } from "../../gen/tradingcore/v1/tick_pb.js";
import { createGrpcJsClient } from "../client/grpc-js-client.js";
import { grpcJsMethodDefinition } from "../rpc/grpc-js-definition.js";
import type { BenchTargets } from "./bench-server.js";

export type Workload = "noop" | "ltp" | "exit";

export interface Row {
  readonly id: string;
  readonly label: string;
  /** Which bench server runs the row: no telemetry, tracing only, or tracing and metrics (what an OTLP endpoint alone turns on). */
  readonly telemetry: "off" | "tracing" | "tracing+metrics";
  readonly target: keyof BenchTargets;
  readonly workload: Workload;
}

export const INSTRUMENT = { segment: Segment.NSE_FNO, securityId: "BENCH1" };

/** How many calls each measurement makes, and at what concurrency. */
export interface DriverSettings {
  readonly c1Calls: number;
  readonly calls: number;
  readonly concurrency: number;
}

/** Order numbers unique across drivers and runs (trackers of earlier runs may live on in Redis). */
const RUN_ID = `${process.pid.toString(36)}${Date.now().toString(36)}`;
let sequence = 0;

export class Driver {
  private readonly clients = new Map<
    string,
    { health: ReturnType<typeof health>; exits: ReturnType<typeof exits>; ticks: ReturnType<typeof ticks> }
  >();

  constructor(private readonly settings: DriverSettings) {}

  clientsOf(address: string) {
    let set = this.clients.get(address);
    if (!set) this.clients.set(address, (set = { health: health(address), exits: exits(address), ticks: ticks(address) }));
    return set;
  }

  /** Makes `calls` calls of `row` ready (trackers for exits) and answers the call to time, by index. */
  async prepare(row: Row, address: string, calls: number): Promise<(index: number) => Promise<boolean>> {
    const client = this.clientsOf(address);
    if (row.workload === "noop") return async () => (await client.health.check({ service: "" })).status === 1;
    await client.ticks.publishTicks([{ ticks: [{ instrument: INSTRUMENT, ltp: "101.25" }] }]);
    if (row.workload === "ltp") return async () => (await client.ticks.getLtp({ instrument: INSTRUMENT })).ltp?.price === "101.25";
    const orderNos = Array.from({ length: calls }, () => `B${RUN_ID}-${++sequence}`);
    await runConcurrently(orderNos.length, 64, (index) =>
      client.exits.registerTracker({
        orderNo: orderNos[index]!,
        ...INSTRUMENT,
        side: Side.LONG,
        quantity: "75",
        entryPrice: "100.05",
        paper: true,
      }),
    );
    return async (index) => {
      const { result } = await client.exits.executeExit({
        orderNo: orderNos[index]!,
        reason: "bench",
        reasonCode: ExitReasonCode.STOP_LOSS,
      });
      return result?.status === ExitStatus.EXITED;
    };
  }

  /**
   * c=1 latencies, then c=N throughput and the server's CPU time (`cpu`: the server process's CPU so far, µs) over that segment.
   * `flush` exports the server's ended spans: before the segment (so spans of the preparation are not charged to it) and at its
   * end, inside the timed window (so every span of the segment's calls is exported within it, none left for the next row).
   */
  async measure(
    row: Row,
    address: string,
    cpu: () => Promise<number>,
    flush: () => Promise<void> = async () => {},
  ): Promise<{ latencies: number[]; calls: number; ms: number; errors: number; cpuMicros: number; clientCpuMicros: number }> {
    const { c1Calls, calls, concurrency } = this.settings;
    const sequential = await this.prepare(row, address, c1Calls);
    const latencies: number[] = [];
    let errors = 0;
    for (let index = 0; index < c1Calls; index++) {
      const started = performance.now();
      const ok = await sequential(index).catch(() => false);
      latencies.push(performance.now() - started);
      if (!ok) errors++;
    }
    const parallel = await this.prepare(row, address, calls);
    await flush();
    const cpuBefore = await cpu();
    const clientBefore = process.cpuUsage();
    const started = performance.now();
    await runConcurrently(calls, concurrency, async (index) => {
      if (!(await parallel(index).catch(() => false))) errors++;
    });
    const client = process.cpuUsage(clientBefore);
    await flush();
    const ms = performance.now() - started;
    return { latencies, calls, ms, errors, cpuMicros: (await cpu()) - cpuBefore, clientCpuMicros: client.user + client.system };
  }

  close(): void {
    for (const set of this.clients.values()) for (const client of Object.values(set)) client.close();
  }
}

const health = (address: string) => createGrpcJsClient(Health, address);
const exits = (address: string) => createGrpcJsClient(ExitService, address);
const ticks = (address: string) => createGrpcJsClient(TickService, address);

/**
 * PublishTicks ingest: one client stream of `batches` × `batchSize` ticks over
 * 1000 instruments; ticks accepted per second. The requests are encoded before
 * the clock starts, so the row times the server's ingest (decode, parse, cache,
 * write-behind) rather than protobuf-es encoding in this client, which costs
 * about as much per tick and would otherwise be the bottleneck. `priceOf` gives
 * the price of the `index`th tick of a batch (100.00 to 149.99, a hundredth more
 * each batch and back after a hundred, unless given).
 */
export async function measureIngest(
  address: string,
  batches: number,
  batchSize: number,
  priceOf: (batch: number, index: number) => string = cyclingPrice,
): Promise<{ ticks: number; ms: number }> {
  const requests = Array.from({ length: batches }, (_, batch) =>
    Buffer.from(
      toBinary(
        PublishTicksRequestSchema,
        create(PublishTicksRequestSchema, {
          ticks: Array.from({ length: batchSize }, (_, index) => ({
            instrument: { segment: Segment.NSE_FNO, securityId: `T${(batch * batchSize + index) % 1000}` },
            ltp: priceOf(batch, index),
          })),
        }),
      ),
    ),
  );
  const method = grpcJsMethodDefinition(TickService.method.publishTicks);
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  try {
    await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 10_000, (error) => (error ? reject(error) : resolve())));
    const started = performance.now();
    const answer = await new Promise<PublishTicksResponse>((resolve, reject) => {
      const stream = client.makeClientStreamRequest(
        method.path,
        (bytes: Buffer) => bytes,
        method.responseDeserialize as (bytes: Buffer) => PublishTicksResponse,
        (error, response) => (error || !response ? reject(error ?? new Error("PublishTicks answered nothing")) : resolve(response)),
      );
      void (async () => {
        for (const request of requests) if (!stream.write(request)) await new Promise((drained) => stream.once("drain", drained));
        stream.end();
      })();
    });
    const ms = performance.now() - started;
    if (Number(answer.accepted) !== batches * batchSize)
      throw new Error(`PublishTicks accepted ${answer.accepted} of ${batches * batchSize}`);
    return { ticks: batches * batchSize, ms };
  } finally {
    client.close();
  }
}

function cyclingPrice(batch: number, index: number): string {
  return `${100 + (index % 50)}.${String(batch % 100).padStart(2, "0")}`;
}

/** Registers `count` paper trackers on `address` with concurrent RegisterTracker calls over a few channels; answers their order numbers. */
export async function registerTrackers(address: string, count: number, prefix: string): Promise<string[]> {
  const channels = Array.from({ length: 4 }, () => exits(address));
  try {
    const orderNos = Array.from({ length: count }, (_, index) => `${prefix}${RUN_ID}-${index}`);
    await runConcurrently(count, 256, async (index) => {
      const { created } = await channels[index % channels.length]!.registerTracker({
        orderNo: orderNos[index]!,
        ...INSTRUMENT,
        side: Side.LONG,
        quantity: "75",
        entryPrice: "100.05",
        paper: true,
      });
      if (!created) throw new Error(`tracker ${orderNos[index]} already existed`);
    });
    return orderNos;
  } finally {
    for (const channel of channels) channel.close();
  }
}

export interface StoreSize {
  readonly id: string;
  readonly trackers: number;
  readonly address: string;
  readonly pool: string[];
  next: number;
  readonly latencies: number[];
  errors: number;
}

/**
 * c=1 ExecuteExit latency with a small and a large tracker store, side by
 * side: each size on a plain server of its own, `perSegment` exits per size
 * per round, sizes alternating (order reversed every other round). Exits take
 * trackers from the registered pool, so the store keeps its size.
 */
export async function measureStoreSizes(
  driver: Driver,
  sizes: StoreSize[],
  rounds: number,
  perSegment: number,
  warmUp: boolean,
): Promise<void> {
  const client = (size: StoreSize) => driver.clientsOf(size.address).exits;
  for (const size of sizes)
    await driver.clientsOf(size.address).ticks.publishTicks([{ ticks: [{ instrument: INSTRUMENT, ltp: "101.25" }] }]);
  const segment = async (size: StoreSize, record: boolean) => {
    for (let call = 0; call < perSegment; call++) {
      const orderNo = size.pool[size.next++]!;
      const started = performance.now();
      const ok = await client(size)
        .executeExit({ orderNo, reason: "bench", reasonCode: ExitReasonCode.STOP_LOSS })
        .then(
          ({ result }) => result?.status === ExitStatus.EXITED,
          () => false,
        );
      if (!record) continue;
      size.latencies.push(performance.now() - started);
      if (!ok) size.errors++;
    }
  };
  if (warmUp) for (const size of sizes) await segment(size, false);
  for (let round = 0; round < rounds; round++) {
    for (const size of round % 2 === 0 ? sizes : [...sizes].reverse()) await segment(size, true);
  }
}

export async function runConcurrently(count: number, concurrency: number, work: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
