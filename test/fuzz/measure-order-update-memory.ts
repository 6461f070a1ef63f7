/**
 * A measurement, not a test: the server's RSS before and after 300
 * ApplyOrderUpdate calls whose correlation ids are a megabyte each, against a
 * server in a child process. Before the input bounds, all 300 were kept
 * (parked) and RSS grew by about 600 MB; now all are refused.
 *
 *   npx tsx test/fuzz/measure-order-update-memory.ts
 */
import { readFileSync } from "node:fs";
import { ExitService } from "../../gen/tradingcore/v1/exit_pb.js";
import { createGrpcJsClient } from "../../src/client/grpc-js-client.js";
import { startTradingCoreProcess } from "../../src/loadtest/tradingcore-process.js";

const CALLS = 300;
const ID_BYTES = 1_000_000;

const rssMb = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024);
const server = await startTradingCoreProcess({ engine: "grpc-js" });
const exits = createGrpcJsClient(ExitService, server.address);
try {
  await exits.listTrackers({});
  const before = rssMb(server.pid);
  const answers: Record<string, number> = {};
  for (let call = 0; call < CALLS; call++) {
    const correlationId = `${call}-`.padEnd(ID_BYTES, "c");
    const answer = await exits.applyOrderUpdate({ correlationId, status: 4, tradedQuantity: "1", averagePrice: "1" }).then(
      () => "OK",
      (error: { code: number }) => `code ${error.code}`,
    );
    answers[answer] = (answers[answer] ?? 0) + 1;
  }
  await exits.listTrackers({});
  console.log(JSON.stringify({ calls: CALLS, idBytes: ID_BYTES, rssBeforeMb: before, rssAfterMb: rssMb(server.pid), answers }));
} finally {
  exits.close();
  await server.stop();
}
