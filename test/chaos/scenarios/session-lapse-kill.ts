/**
 * Scenario: the dead-man switch, with the server acting on a lapse killed
 * halfway through it.
 *
 * The trackers are registered under one EXIT_ALL session (run-scenario.ts
 * opens it). After one heartbeat the strategy goes silent; every server's
 * watchdog looks for lapses every 100 ms, and every paper router takes
 * `LATENCY_MS` per order, so one lapse's exits take a while. The server whose
 * claim won (its log line says so) is killed with SIGKILL as soon as one of
 * the session's trackers is on its way out, while clients race ExecuteExit on
 * half of the trackers. The other servers must claim the lapse again after
 * `--session-lapse-retry-ms` and exit the rest; the reconcilers resolve what
 * the killed server left EXITING. Then it is started again.
 *
 * Every tracker must end EXITED with one filled order; those no client asked
 * for, by the lapse (SESSION_LAPSED).
 */
import { ExitReasonCode, TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { SessionService } from "../../../gen/tradingcore/v1/session_pb.js";
import { createGrpcJsClient } from "../../../src/client/grpc-js-client.js";
import { readTrackers } from "../support/chaos-trackers.js";
import type { ScenarioContext, ScenarioDefinition } from "../support/run-scenario.js";
import { logEntries, waitFor } from "../support/server-log.js";

const TTL_MS = 3_000;
const LATENCY_MS = 400;
const LAPSE_RETRY_MS = 1_000;

export const sessionLapseKilled: ScenarioDefinition = {
  name: "session-lapse-kill-9",
  fleet: () => ({
    lockTtlMs: 1_500,
    routerTimeoutMs: 2_000,
    unknownOrderGraceMs: 10_000,
    reconcilerGraceMs: 1_500,
    reconcilerIntervalMs: 250,
    args: [
      "--session-check-interval-ms",
      "100",
      "--session-lapse-retry-ms",
      String(LAPSE_RETRY_MS),
      "--paper-latency-ms",
      String(LATENCY_MS),
    ],
  }),
  trackers: (profile) => Math.round(profile.trackers / 5),
  session: { ttlMs: TTL_MS },
  run: lapseAndKill,
};

async function lapseAndKill(context: ScenarioContext): Promise<void> {
  const { fleet } = context;
  const sessionId = context.sessionId!;
  const asked = context.random.shuffled(context.orderNos).slice(0, Math.round(context.orderNos.length / 2));
  const askedSet = new Set(asked);
  await heartbeat(fleet.server(1).address, sessionId);
  const servers = Array.from({ length: fleet.settings.servers }, (_, index) => index);
  const lapseLines = (index: number) => logEntries(fleet.server(index), `session ${sessionId} lapsed`);
  await waitFor(() => servers.some((index) => lapseLines(index).length > 0), "a server claimed the lapse", TTL_MS + 30_000);
  const acting = servers.find((index) => lapseLines(index).length > 0)!;
  const observer = () => fleet.server(acting === 1 ? 2 : 1).address;
  const racing = context.drive({ orderNos: asked, rounds: 1 });
  await waitFor(
    async () => [...(await readTrackers(observer(), context.orderNos)).values()].some((t) => t.status !== TrackerStatus.ACTIVE),
    "a tracker of the session on its way out",
    30_000,
  );
  await fleet.kill(acting, "SIGKILL");
  const atKill = await readTrackers(observer(), context.orderNos);
  const activeAtKill = context.orderNos.filter((orderNo) => atKill.get(orderNo)?.status === TrackerStatus.ACTIVE).length;
  context.note("actingServer", acting);
  context.note("activeAtKill", activeAtKill);
  await racing;

  const exited = async () =>
    [...(await readTrackers(observer(), context.orderNos)).values()].filter((t) => t.status === TrackerStatus.EXITED).length ===
    context.orderNos.length;
  await waitFor(exited, "every tracker EXITED", context.profile.settleBoundMs).catch(() => undefined);
  const retriedElsewhere = servers.filter(
    (index) => index !== acting && logEntries(fleet.server(index), `session ${sessionId} lapsed`).some((entry) => entry.retry === true),
  );
  context.note("lapseRetriedBy", retriedElsewhere.join(",") || "none");
  context.check(activeAtKill === 0 || retriedElsewhere.length > 0, "no other server claimed the lapse again after the kill");
  await fleet.restart(acting);

  const final = await readTrackers(observer(), context.orderNos);
  const notExited = context.orderNos.filter((orderNo) => final.get(orderNo)?.status !== TrackerStatus.EXITED);
  context.check(notExited.length === 0, `${notExited.length} trackers not EXITED: ${notExited.join(", ")}`);
  const unasked = context.orderNos.filter((orderNo) => !askedSet.has(orderNo));
  const byLapse = unasked.filter((orderNo) => final.get(orderNo)?.exitReasonCode === ExitReasonCode.SESSION_LAPSED);
  context.check(
    byLapse.length === unasked.length,
    `only ${byLapse.length} of the ${unasked.length} trackers no client asked for exited by the lapse`,
  );
  context.note(
    "askedExitedByLapse",
    asked.filter((orderNo) => final.get(orderNo)?.exitReasonCode === ExitReasonCode.SESSION_LAPSED).length,
  );
}

async function heartbeat(address: string, sessionId: string): Promise<void> {
  const sessions = createGrpcJsClient(SessionService, address);
  try {
    await sessions.heartbeat({ sessionId });
  } finally {
    sessions.close();
  }
}
