/**
 * A strategy engine in a process of its own: forked by ChaosClients, it runs
 * the ExecuteExit plans its parent sends over IPC with grpc-js clients and
 * reports every call. It never decides anything about the outcome; the parent
 * checks the answers against the final state.
 */
import { ExitReasonCode, ExitStatus, PriceSource, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { ExitService } from "../../../gen/tradingcore/v1/exit_pb.js";
import { createGrpcJsClient } from "../../../src/client/grpc-js-client.js";
import { SETTLED_EXIT_STATUSES, type CallRecord, type ClientCommand, type ClientPlan, type ClientReply } from "./client-plan.js";
import { SeededRandom } from "./seeded-random.js";

const exitClient = (address: string) => createGrpcJsClient(ExitService, address);
type ExitClient = ReturnType<typeof exitClient>;

const channels = new Map<string, ExitClient>();

function clientFor(address: string): ExitClient {
  let client = channels.get(address);
  if (!client) {
    client = exitClient(address);
    channels.set(address, client);
  }
  return client;
}

async function call(client: number, address: string, orderNo: string, timeoutMs: number): Promise<CallRecord> {
  const startedAt = Date.now();
  try {
    const { result } = await clientFor(address).executeExit(
      { orderNo, reason: "chaos exit", reasonCode: ExitReasonCode.STOP_LOSS },
      { timeoutMs },
    );
    return {
      client,
      orderNo,
      address,
      startedAt,
      finishedAt: Date.now(),
      status: ExitStatus[result?.status ?? ExitStatus.UNSPECIFIED] ?? String(result?.status),
      message: result?.message ?? "",
      correlationId: result?.correlationId ?? "",
      exitPrice: result?.exitPrice ?? "",
      priceSource: PriceSource[result?.priceSource ?? PriceSource.UNSPECIFIED] ?? "",
      ...(result?.tracker ? { trackerStatus: TrackerStatus[result.tracker.status] } : {}),
    };
  } catch (error) {
    const failure = error as { code?: number; details?: string; message?: string };
    return {
      client,
      orderNo,
      address,
      startedAt,
      finishedAt: Date.now(),
      grpcCode: failure.code ?? -1,
      message: failure.details ?? failure.message ?? String(error),
    };
  }
}

async function runPlan(client: number, plan: ClientPlan): Promise<CallRecord[]> {
  const random = new SeededRandom(plan.seed);
  const records: CallRecord[] = [];
  const exited = new Set<string>();
  for (let round = 0; round < plan.rounds; round++) {
    const queue = random.shuffled(plan.orderNos.filter((orderNo) => !plan.stopWhenExited || !exited.has(orderNo)));
    // Each call's server is drawn up front, so the draws do not depend on which call finishes first.
    const work = queue.map((orderNo) => ({ orderNo, address: random.pick(plan.addresses) }));
    let next = 0;
    const worker = async () => {
      while (next < work.length) {
        const { orderNo, address } = work[next++]!;
        const record = await call(client, address, orderNo, plan.callTimeoutMs);
        records.push(record);
        if (record.status && SETTLED_EXIT_STATUSES.has(record.status)) exited.add(orderNo);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, plan.concurrency) }, worker));
  }
  return records;
}

function reply(message: ClientReply): void {
  process.send?.(message);
}

process.on("message", (command: ClientCommand) => {
  if (command.kind === "stop") {
    for (const client of channels.values()) client.close();
    process.exit(0);
  }
  runPlan(command.client, command.plan).then(
    (calls) => reply({ kind: "done", id: command.id, calls }),
    (error: unknown) => reply({ kind: "failed", id: command.id, message: error instanceof Error ? error.message : String(error) }),
  );
});
// The parent going away (a test killed mid-run) must not leave this process behind.
process.on("disconnect", () => process.exit(0));
reply({ kind: "ready" });
