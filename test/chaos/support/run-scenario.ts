/**
 * The frame every chaos scenario runs in: take a fleet and the client
 * processes, register and price the trackers, run the scenario's steps, wait
 * (bounded) for the reconcilers, then check the shared invariants against
 * the paper book and the final state. A fleet that is not kept for the next
 * run is stopped by its pids in `finally`, whatever happened.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { SessionLapseAction, SessionService } from "../../../gen/tradingcore/v1/session_pb.js";
import { createGrpcJsClient } from "../../../src/client/grpc-js-client.js";
import type { ChaosClients } from "./chaos-clients.js";
import { CHAOS_KEY_PREFIX, type ChaosFleet, type FleetSettings } from "./chaos-fleet.js";
import type { ChaosResources } from "./chaos-resources.js";
import type { ChaosProfile } from "./chaos-profile.js";
import { publishTick, registerTrackers, waitUntilSettled } from "./chaos-trackers.js";
import type { CallRecord, ClientPlan } from "./client-plan.js";
import { checkExitInvariants, type InvariantOptions } from "./exit-invariants.js";
import { readPaperBook, type BookSnapshot } from "./paper-book-view.js";
import { type ScenarioReport, countAnswers } from "./scenario-report.js";
import { SeededRandom } from "./seeded-random.js";
import { errorMessages } from "./server-log.js";

export interface ScenarioContext {
  readonly fleet: ChaosFleet;
  readonly clients: ChaosClients;
  readonly random: SeededRandom;
  readonly profile: ChaosProfile;
  readonly orderNos: readonly string[];
  /** The session the trackers are registered under, when the scenario asked for one (ScenarioDefinition.session). */
  readonly sessionId?: string;
  /** Runs one plan on every client at once (over the servers running now) and records every call. */
  drive(plan?: Partial<ClientPlan>): Promise<CallRecord[]>;
  /**
   * Until every tracker of `orderNos` is EXITED, or `maxDrives` drives are
   * spent: waits (bounded) for the reconcilers to leave none EXITING, then
   * drives one round over those still not EXITED. Answers those left.
   */
  driveUntilExited(orderNos: readonly string[], maxDrives: number): Promise<string[]>;
  /** The paper book as it stands now. */
  book(): Promise<BookSnapshot>;
  /** A figure for the report. */
  note(name: string, value: number | string): void;
  /** A scenario-specific expectation; a false one fails the run with `message`. */
  check(condition: boolean, message: string): void;
}

export interface ScenarioDefinition {
  readonly name: string;
  readonly fleet: (profile: ChaosProfile) => Omit<FleetSettings, "build" | "servers" | "seed">;
  /** Trackers this scenario exits; the profile's count when absent. */
  readonly trackers?: (profile: ChaosProfile) => number;
  readonly invariants?: InvariantOptions;
  /** Registers the trackers under a session opened just before (EXIT_ALL on lapse, `ttlMs` from its opening). */
  readonly session?: { readonly ttlMs: number };
  readonly run: (context: ScenarioContext) => Promise<void>;
}

export const CALL_TIMEOUT_MS = 60_000;

/** Settings of the scenarios without faults of their own; one fleet serves them one after another. */
export const PLAIN_FLEET = {
  lockTtlMs: 3_000,
  routerTimeoutMs: 1_000,
  unknownOrderGraceMs: 5_000,
  reconcilerGraceMs: 1_000,
  reconcilerIntervalMs: 250,
} as const;

/**
 * Runs one scenario with one seed on `resources` (the client processes, and
 * the fleet when the last run left one with the same settings).
 */
export async function runScenario(
  definition: ScenarioDefinition,
  profile: ChaosProfile,
  seed: number,
  resources: ChaosResources,
): Promise<ScenarioReport> {
  const started = Date.now();
  const random = new SeededRandom(seed);
  let fleet: ChaosFleet | undefined;
  let finished = false;
  try {
    fleet = await resources.fleetFor({ ...definition.fleet(profile), build: profile.build, servers: profile.servers, seed });
    const mark = fleet.logMark();
    const sessionId = definition.session
      ? await openSession(fleet.addresses[0]!, `CH-${definition.name}-${seed}`, definition.session.ttlMs)
      : undefined;
    // Alive while its trackers are registered, however slow the machine: the scenario decides when it lapses.
    const keepAlive = sessionId ? heartbeats(fleet.addresses[0]!, sessionId, definition.session!.ttlMs / 4) : undefined;
    const orderNos = await registerTrackers(
      fleet.addresses[0]!,
      definition.name,
      definition.trackers?.(profile) ?? profile.trackers,
      random,
      sessionId,
    ).finally(() => keepAlive?.stop());
    await publishTick(fleet.addresses);
    const calls: CallRecord[] = [];
    const extra: Record<string, number | string> = { startMs: Date.now() - started };
    const failures: string[] = [];
    let plans = 0;
    const liveFleet = fleet;
    const liveClients = resources.clients;
    const context: ScenarioContext = {
      fleet: liveFleet,
      clients: liveClients,
      random,
      profile,
      orderNos,
      ...(sessionId ? { sessionId } : {}),
      async drive(plan = {}) {
        const round = plans++;
        const made = await liveClients.run((client) => ({
          addresses: liveFleet.addresses,
          orderNos,
          rounds: profile.rounds,
          concurrency: profile.concurrency,
          callTimeoutMs: CALL_TIMEOUT_MS,
          stopWhenExited: false,
          ...plan,
          seed: random.derive(`plan-${round}-client-${client}`),
        }));
        calls.push(...made);
        return made;
      },
      async driveUntilExited(wanted, maxDrives) {
        let left = [...wanted];
        for (let drive = 0; drive < maxDrives && left.length > 0; drive++) {
          const settled = await waitUntilSettled(() => liveFleet.addresses[0]!, left, profile.settleBoundMs);
          left = left.filter((orderNo) => settled.trackers.get(orderNo)?.status !== TrackerStatus.EXITED);
          if (left.length === 0) break;
          extra.recoveryDrives = drive + 1;
          await context.drive({ orderNos: left, rounds: 1 });
        }
        const final = await waitUntilSettled(() => liveFleet.addresses[0]!, left, profile.settleBoundMs);
        return left.filter((orderNo) => final.trackers.get(orderNo)?.status !== TrackerStatus.EXITED);
      },
      book: async () => onlyThese(await readPaperBook(liveFleet.store.url, CHAOS_KEY_PREFIX), orderNos),
      note(name, value) {
        extra[name] = value;
      },
      check(condition, message) {
        if (!condition) failures.push(message);
      },
    };
    await definition.run(context);
    const settled = await waitUntilSettled(() => liveFleet.addresses[0]!, orderNos, profile.settleBoundMs);
    extra.settleMs = settled.waitedMs;
    const errors = errorMessages(liveFleet.history, mark);
    extra.serverErrorLines = Object.values(errors).reduce((sum, count) => sum + count, 0);
    if (extra.serverErrorLines > 0)
      extra.serverErrors = Object.entries(errors)
        .map(([message, count]) => `${count}x ${message}`)
        .join(" | ");
    const book = await context.book();
    const { violations, figures } = checkExitInvariants({ orderNos, trackers: settled.trackers, book, calls }, definition.invariants);
    finished = true;
    return {
      scenario: definition.name,
      seed,
      elapsedMs: Date.now() - started,
      calls: calls.length,
      answers: countAnswers(calls),
      invariants: figures,
      violations,
      extra,
      failures,
    };
  } finally {
    if (fleet && process.env.CHAOS_LOG_DIR) keepLogs(fleet, process.env.CHAOS_LOG_DIR, `${definition.name}-${seed}`);
    if (fleet) await resources.release(fleet, finished);
  }
}

/** Opens an EXIT_ALL session for `ttlMs` through `address`; answers its id. */
async function openSession(address: string, sessionId: string, ttlMs: number): Promise<string> {
  const sessions = createGrpcJsClient(SessionService, address);
  try {
    await sessions.openSession({ sessionId, ttl: durationFromMs(ttlMs), lapseAction: SessionLapseAction.EXIT_ALL });
    return sessionId;
  } finally {
    sessions.close();
  }
}

/** Heartbeats `sessionId` through `address` every `everyMs` until `stop`. */
function heartbeats(address: string, sessionId: string, everyMs: number): { stop(): void } {
  const sessions = createGrpcJsClient(SessionService, address);
  const timer = setInterval(() => void sessions.heartbeat({ sessionId }).catch(() => undefined), everyMs);
  return {
    stop() {
      clearInterval(timer);
      sessions.close();
    },
  };
}

/** CHAOS_LOG_DIR: every server's log lines of the run, one file per process, to look into a failure. */
function keepLogs(fleet: ChaosFleet, dir: string, run: string): void {
  mkdirSync(dir, { recursive: true });
  fleet.history.forEach((server, i) => {
    writeFileSync(join(dir, `${run}-server-${i}-pid-${server.pid}.log`), [...server.lines, ...server.stderr].join("\n"));
  });
}

/** The book's orders of this run's trackers only (a shared fleet's book also holds earlier runs'). */
function onlyThese(book: BookSnapshot, orderNos: readonly string[]): BookSnapshot {
  const ordersByTracker = new Map(
    orderNos.flatMap((orderNo) => (book.ordersByTracker.has(orderNo) ? [[orderNo, book.ordersByTracker.get(orderNo)!] as const] : [])),
  );
  const acceptedByTracker = new Map(
    orderNos.flatMap((orderNo) => (book.acceptedByTracker.has(orderNo) ? [[orderNo, book.acceptedByTracker.get(orderNo)!] as const] : [])),
  );
  return { ordersByTracker, acceptedByTracker, totalOrders: [...ordersByTracker.values()].reduce((sum, orders) => sum + orders.length, 0) };
}
