/**
 * Drives ExecuteExit (and GetLtp) calls against one server with a grpc-js
 * client, closed loop (N in flight) or open loop (N started per second),
 * until the duration, the call budget or the trackers run out. Each call
 * carries a fresh W3C traceparent, so its server spans can be found later.
 */
import { randomFillSync } from "node:crypto";
import { ExitReasonCode, ExitStatus } from "../../gen/tradingcore/v1/common_pb.js";
import type { ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import type { TickService } from "../../gen/tradingcore/v1/tick_pb.js";
import type { GrpcJsClient } from "../client/grpc-js-client.js";
import type { InstrumentKey } from "../exit/ports.js";

export interface LoadPlan {
  readonly orderNos: readonly string[];
  readonly instrument: InstrumentKey;
  readonly concurrency: number;
  readonly rps: number | undefined;
  readonly durationMs: number;
  readonly maxCalls: number;
  readonly ltpShare: number;
  /** Called about every 250 ms with the calls done so far. */
  readonly onProgress?: (done: number, elapsedMs: number) => void;
  /** Aborted: start no more calls, let those in flight finish, and answer what was measured. */
  readonly signal?: AbortSignal;
}

export interface LoadResult {
  readonly exitLatencies: number[];
  readonly ltpLatencies: number[];
  /** When each latency in `exitLatencies` / `ltpLatencies` was measured, ms since the load started. */
  readonly exitDoneAtMs: number[];
  readonly ltpDoneAtMs: number[];
  /** ExitStatus names for exits, `OK` for GetLtp, `grpc:<code>` for failed calls, by call kind. */
  readonly statuses: Record<"ExecuteExit" | "GetLtp", Record<string, number>>;
  readonly calls: number;
  readonly elapsedMs: number;
  readonly traceIds: Set<string>;
  /** Open loop only: calls not started because too many were in flight. */
  readonly skipped: number;
}

const MAX_IN_FLIGHT = 10_000;

export async function driveLoad(
  clients: { exits: GrpcJsClient<(typeof ExitService)["method"]>; ticks: GrpcJsClient<(typeof TickService)["method"]> },
  plan: LoadPlan,
): Promise<LoadResult> {
  const result: { -readonly [K in keyof LoadResult]: LoadResult[K] } = {
    exitLatencies: [],
    ltpLatencies: [],
    exitDoneAtMs: [],
    ltpDoneAtMs: [],
    statuses: { ExecuteExit: {}, GetLtp: {} },
    calls: 0,
    elapsedMs: 0,
    traceIds: new Set(),
    skipped: 0,
  };
  const ids = new TraceIds();
  let nextTracker = 0;
  let inFlight = 0;
  let skipped = 0;
  const started = performance.now();
  const deadline = started + plan.durationMs;
  const count = (kind: "ExecuteExit" | "GetLtp", status: string) =>
    (result.statuses[kind][status] = (result.statuses[kind][status] ?? 0) + 1);
  const canStart = () =>
    !plan.signal?.aborted && result.calls < plan.maxCalls && performance.now() < deadline && nextTracker < plan.orderNos.length;

  /** One call; latency counted from `scheduledAt` (open loop: the planned start, so queueing is not hidden). */
  const call = async (scheduledAt: number) => {
    result.calls++;
    inFlight++;
    const traceId = ids.traceId();
    result.traceIds.add(traceId);
    const metadata = { traceparent: `00-${traceId}-${ids.spanId()}-01` };
    const ltp = plan.ltpShare > 0 && Math.random() < plan.ltpShare;
    try {
      if (ltp) {
        await clients.ticks.getLtp({ instrument: plan.instrument }, { metadata });
        const now = performance.now();
        result.ltpLatencies.push(now - scheduledAt);
        result.ltpDoneAtMs.push(now - started);
        count("GetLtp", "OK");
      } else {
        const orderNo = plan.orderNos[nextTracker++]!;
        const { result: exit } = await clients.exits.executeExit(
          { orderNo, reason: "load test", reasonCode: ExitReasonCode.MANUAL },
          { metadata },
        );
        const now = performance.now();
        result.exitLatencies.push(now - scheduledAt);
        result.exitDoneAtMs.push(now - started);
        count("ExecuteExit", ExitStatus[exit?.status ?? 0] ?? String(exit?.status));
      }
    } catch (error) {
      count(ltp ? "GetLtp" : "ExecuteExit", `grpc:${(error as { code?: number }).code ?? "?"}`);
    } finally {
      inFlight--;
    }
  };

  const progress = plan.onProgress ? setInterval(() => plan.onProgress!(result.calls, performance.now() - started), 250) : undefined;
  try {
    if (plan.rps === undefined) {
      const worker = async () => {
        while (canStart()) await call(performance.now());
      };
      await Promise.all(Array.from({ length: plan.concurrency }, worker));
    } else {
      const intervalMs = 1000 / plan.rps;
      const pending = new Set<Promise<void>>();
      let planned = 0;
      while (canStart()) {
        const due = started + planned * intervalMs;
        const now = performance.now();
        if (due > now) await new Promise((resolve) => setTimeout(resolve, Math.min(50, due - now)));
        while (started + planned * intervalMs <= performance.now() && canStart()) {
          const scheduledAt = started + planned * intervalMs;
          planned++;
          if (inFlight >= MAX_IN_FLIGHT) {
            skipped++;
            continue;
          }
          const promise = call(scheduledAt);
          pending.add(promise);
          void promise.finally(() => pending.delete(promise));
        }
      }
      await Promise.all(pending);
    }
  } finally {
    if (progress) clearInterval(progress);
  }
  return { ...result, elapsedMs: performance.now() - started, skipped };
}

/** Random W3C trace and span ids from a pooled buffer (one syscall per 512 ids). */
class TraceIds {
  private pool = Buffer.alloc(0);
  private offset = 0;

  traceId(): string {
    return this.take(16);
  }

  spanId(): string {
    return this.take(8);
  }

  private take(bytes: number): string {
    if (this.offset + bytes > this.pool.length) {
      this.pool = randomFillSync(Buffer.alloc(8192));
      this.offset = 0;
    }
    const id = this.pool.toString("hex", this.offset, this.offset + bytes);
    this.offset += bytes;
    return id;
  }
}
