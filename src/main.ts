/**
 * The composition root: the one place that picks adapters from configuration,
 * wires them into the exit engine and the handlers, and starts listening.
 * Run directly (`npm start`), it reads env and flags and serves until SIGTERM.
 */
import { pathToFileURL } from "node:url";
import { pino, type Logger } from "pino";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { answeredInformationalFlag, serverHelp } from "./cli-help.js";
import { ConfigError, exposureProblem, loadConfig, type Config } from "./config.js";
import { ExitEngine } from "./exit/exit-engine.js";
import { ExitEventHub, fanOutEvents } from "./exit/exit-event-hub.js";
import { OrderUpdateHandler } from "./exit/order-update-handler.js";
import { WritesInDoubt } from "./exit/writes-in-doubt.js";
import { Reconciler } from "./exit/reconciler.js";
import type { Clock, ExitEventSink, ExitLock, OrderRouter, TrackerStore } from "./exit/ports.js";
import { systemClock } from "./exit/system-clock.js";
import { InProcessLock } from "./lock/in-process-lock.js";
import { PaperRouter } from "./router/paper-router.js";
import { dhanAccessTokenFromConfig, routerFromConfig } from "./router-from-config.js";
import { OrderUpdateSignals } from "./exit/order-update-signals.js";
import { MemorySupersededAttempts } from "./store/memory-superseded-attempts.js";
import type { TickSink } from "./ticks/tick.js";
import { PriceSource } from "../gen/tradingcore/v1/common_pb.js";
import { PausedReplyRouter } from "./router/paused-reply-router.js";
import type { CallMiddleware } from "./rpc/call-middleware.js";
import { bearerAuthMiddleware } from "./server/middleware/bearer-auth-middleware.js";
import { inflightExitLimit } from "./server/middleware/inflight-exit-limit.js";
import { loggingMiddleware } from "./server/middleware/logging-middleware.js";
import { REFLECTION_SERVICES } from "./server/handlers/reflection-service.js";
import { ShutdownGate } from "./server/middleware/shutdown-gate.js";
import { preserveByteOrderMarks } from "./server/wire/bom-preserving-text-decoding.js";
import { loadTlsMaterial } from "./config-tls.js";
import { HealthState, ServingStatus } from "./server/handlers/health-state.js";
import { SERVED_SERVICES, SUBSCRIPTIONS } from "./server/routes.js";
import type { RunningEngine } from "./server/connect/connect-engine.js";
import { routeGrpcJsLog } from "./server/grpc-js/grpc-js-log.js";
import { hostPort } from "./server/listen-host.js";
import { startEngines } from "./server/start-engines.js";
import { chosenAdapters, logStartupSummary, startupSummary } from "./startup-summary.js";
import type { TradingCoreServices } from "./server/handlers/services.js";
import { MemoryOwedExits } from "./store/memory-owed-exits.js";
import { MemorySessionStore } from "./store/memory-session-store.js";
import { SessionWatchdog } from "./session/session-watchdog.js";
import type { SessionStore } from "./session/session-store.js";
import { DEFAULT_EXIT_ALL_PARALLEL } from "./exit/exit-all.js";
import { MemoryProtectionStates } from "./store/memory-protection-states.js";
import { MemoryDueTimes } from "./store/memory-due-times.js";
import { TimeExitScheduler } from "./protection/time-exit-scheduler.js";
import { sessionEndDefaultsOf } from "./protection/time-rules.js";
import { ProtectiveExits } from "./protection/protective-exits.js";
import { MemoryTrackerStore } from "./store/memory-tracker-store.js";
import { MeteredExitLock } from "./telemetry/metered-exit-lock.js";
import { MeteredLtpResolver } from "./telemetry/metered-ltp-resolver.js";
import { traceIdsMixin } from "./telemetry/log-trace-ids.js";
import { disabledTelemetry, startTelemetry, type Telemetry } from "./telemetry/telemetry.js";
import { FallbackLtpResolver } from "./ticks/fallback-ltp-resolver.js";
import { MemoryTickCache } from "./ticks/memory-tick-cache.js";
import { TeeTickSink } from "./ticks/tee-tick-sink.js";
import { tuneRuntime } from "./runtime-tuning.js";
import { type DhanFeeds, dhanFeedsFromConfig } from "./dhan-feeds-from-config.js";
import { connectRedisAdapters, RedisStartupError, usesRedis, type RedisAdapters } from "./redis-adapters.js";
import { connectRedisTrail, usesRedisTrail, type RedisTrailAdapter } from "./redis-trail-adapter.js";
import type { ExitTrail } from "./exit/exit-trail.js";
import { MemoryExitTrail } from "./trail/memory-exit-trail.js";
import { stillRecordedIn } from "./exit/recorded-events.js";
import { hostname } from "node:os";

/** Adapters a caller (a test, an embedding program) may supply instead of the configured ones. */
export interface AdapterOverrides {
  readonly store?: TrackerStore;
  readonly sessions?: SessionStore;
  readonly lock?: ExitLock;
  /** `null` runs with no router at all (every exit answers ROUTER_UNAVAILABLE). */
  readonly router?: OrderRouter | null | undefined;
  readonly clock?: Clock;
  readonly events?: ExitEventSink;
  /** The audit trail (the configured one when absent). */
  readonly trail?: ExitTrail;
  /** This process's name in the audit trail; host, pid and start time when absent. */
  readonly processName?: string;
  readonly log?: Logger;
  /** Call middleware run on every engine after the built-in ones (tracing, logging). */
  readonly middleware?: readonly CallMiddleware[];
  /** Tracing and metrics (started by the caller, once per process); none when absent. */
  readonly telemetry?: Telemetry;
}

export interface RunningTradingCore {
  readonly host: string;
  /** The port of the first engine: grpc-js unless only connect runs. */
  readonly port: number;
  /** `host:port` of the first engine, for gRPC clients. */
  readonly address: string;
  /** `host:port` of the connect engine (gRPC, gRPC-Web, Connect), when it runs. */
  readonly connectAddress: string | undefined;
  /** Every engine serving, the first one at `address`. */
  readonly engines: readonly RunningEngine[];
  readonly services: TradingCoreServices;
  readonly router: OrderRouter | undefined;
  /** Reads the broker's access token again (the Dhan token file): what SIGHUP does. */
  reloadCredentials(why: string): void;
  /** Dhan's order update and market feeds, when configured. */
  readonly dhanFeeds: DhanFeeds | undefined;
  /** The dead-man switch; `runOnce` checks for lapsed sessions now (tests drive it with an injected clock). */
  readonly sessionWatchdog: SessionWatchdog;
  /** Time exits and session-end square-offs; `runOnce` fires what is due now (tests drive it with an injected clock). */
  readonly timeExits: TimeExitScheduler;
  /** NOT_SERVING, stop accepting, let in-flight calls finish (up to the grace period), close. */
  stop(): Promise<void>;
}

/**
 * Builds and starts the server. Refuses (ConfigError, before anything
 * listens) to listen beyond loopback without a token unless the
 * configuration says so explicitly, and reads TLS material up front.
 */
export async function startTradingCore(config: Config, overrides: AdapterOverrides = {}): Promise<RunningTradingCore> {
  const exposure = exposureProblem(config);
  if (exposure) throw new ConfigError(exposure);
  preserveByteOrderMarks();
  const tls = loadTlsMaterial(config);
  const log = overrides.log ?? pino({ level: config.logLevel, base: { service: "tradingcore" }, mixin: traceIdsMixin });
  routeGrpcJsLog(log, [config.authToken, config.dhanAccessToken, config.redisSentinelNodePassword]);
  const clock = overrides.clock ?? systemClock;
  // Redis adapters replace the embedded ones when a Redis setting is present (redis-adapters.ts).
  const redis: RedisAdapters | undefined = usesRedis(config) ? await connectRedisAdapters(config, log) : undefined;
  const store = overrides.store ?? redis?.store ?? new MemoryTrackerStore();
  const telemetry = overrides.telemetry ?? disabledTelemetry();
  telemetry.reportProblemsTo(log);
  const bareLock = overrides.lock ?? redis?.lock ?? new InProcessLock(() => clock.now());
  const lock = telemetry.metering ? new MeteredExitLock(bareLock, telemetry.metrics) : bareLock;
  const processName = overrides.processName ?? `${hostname()}:${process.pid}:${clock.now()}`;
  const redisTrail: RedisTrailAdapter | undefined =
    overrides.trail === undefined && usesRedisTrail(config)
      ? await connectRedisTrail(config, { clock, log, process: processName, recorded: stillRecordedIn(store) }).catch(
          async (error: unknown) => {
            await redis?.close();
            throw error;
          },
        )
      : undefined;
  const trail =
    overrides.trail ??
    redisTrail?.trail ??
    new MemoryExitTrail(() => clock.now(), { maxEvents: config.auditMaxEvents, maxAgeMs: config.auditMaxAgeMs }, processName);
  // The hub is fed by the trail, so a watcher gets the events of every process sharing it, in the trail's order.
  const hub = new ExitEventHub(config.watchBufferSize);
  await trail.follow(
    (event) => hub.deliver(event),
    () => hub.watcherCount > 0,
  );
  const events = overrides.events ? fanOutEvents(trail, overrides.events) : trail;
  const signals = new OrderUpdateSignals();
  const writesInDoubt = new WritesInDoubt(store, events, clock, log);
  const orderUpdates = new OrderUpdateHandler(store, clock, events, {
    writesInDoubt,
    maxParked: config.maxParkedOrderUpdates,
    maxParkedBytes: config.maxParkedOrderUpdateBytes,
    parkedTtlMs: config.parkedOrderUpdateTtlMs,
    log,
    signals,
    onRefused: (orderNo) => reconciler.owe(orderNo),
  });
  const dhanToken = config.router === "dhan" && overrides.router === undefined ? dhanAccessTokenFromConfig(config, log, clock) : undefined;
  dhanToken?.watch();
  const configured =
    overrides.router === null
      ? undefined
      : (overrides.router ??
        routerFromConfig(config, {
          clock,
          log,
          orderBook: redis?.orderBook,
          dhanToken,
          sharedRateLimiter: redis?.rateLimiter,
          keyPrefix: config.redisKeyPrefix,
        }));
  // A paper market reports its later fills the way a broker's order updates arrive, and fills at ticks.
  if (configured instanceof PaperRouter) configured.updates ??= orderUpdates;
  const router =
    configured && config.faultPauseAfterOrderMs > 0 ? new PausedReplyRouter(configured, config.faultPauseAfterOrderMs, log) : configured;
  const tickCache = new MemoryTickCache(config.maxTickInstruments);
  const tickSinks: TickSink[] = [
    tickCache,
    ...(redis?.ticks ? [redis.ticks] : []),
    ...(configured instanceof PaperRouter ? [configured] : []),
  ];
  const tickSink = new TeeTickSink(tickSinks, log);
  const bareResolver = new FallbackLtpResolver(
    redis?.ticks ? [tickCache, redis.ticks] : [tickCache],
    {
      hopTimeoutMs: config.ltpRedisHopTimeoutMs,
      hopTimeoutsMs: { [PriceSource.MEMORY]: config.ltpMemoryHopTimeoutMs, [PriceSource.REDIS]: config.ltpRedisHopTimeoutMs },
      ...(telemetry.metering ? { onHopMiss: (source: PriceSource) => telemetry.metrics.ltpHopMissed(source) } : {}),
      staleAfterMs: config.ltpStaleAfterMs,
    },
    () => clock.now(),
    log,
  );
  const superseded = redis?.superseded ?? new MemorySupersededAttempts();
  const protectionStates = redis?.protection ?? new MemoryProtectionStates(() => clock.now());
  const resolver = telemetry.metering ? new MeteredLtpResolver(bareResolver, telemetry.metrics) : bareResolver;
  const engine = new ExitEngine({
    store,
    lock,
    ltp: resolver,
    ...(router ? { router } : {}),
    clock,
    events,
    log,
    ...(telemetry.metering ? { observer: telemetry.metrics } : {}),
    orderUpdates,
    signals,
    writesInDoubt,
    superseded,
    // The store's own replicas only: a store handed in by the caller is confirmed as it is.
    ...(overrides.store === undefined && redis?.confirmation ? { confirmation: redis.confirmation } : {}),
    settings: {
      lockTtlMs: config.lockTtlMs,
      routerTimeoutMs: config.routerTimeoutMs,
      unknownOrderGraceMs: config.unknownOrderGraceMs,
      sendDeadlineMarginMs: config.sendDeadlineMarginMs,
      fillWaitMs: config.fillWaitMs,
      fillPollIntervalMs: config.fillPollIntervalMs,
      duplicateWatchMs: config.duplicateWatchMs,
      trackerUpdateRetries: config.trackerUpdateRetries,
    },
  });
  const reconciler = new Reconciler({
    engine,
    store,
    ...(router ? { router } : {}),
    superseded,
    clock,
    events,
    log,
    parkedUpdates: orderUpdates,
    owedExits: redis?.owedExits ?? new MemoryOwedExits(),
    settings: {
      graceMs: config.reconcilerGraceMs,
      intervalMs: config.reconcilerIntervalMs,
      retryBudget: config.reconcilerRetryBudget,
      overdueAfterMs: config.overdueOrderAfterMs,
    },
  });
  const sessions = overrides.sessions ?? redis?.sessions ?? new MemorySessionStore();
  const sessionWatchdog = new SessionWatchdog({
    sessions,
    store,
    // The tick rules and the scheduler follow a plan TIGHTEN changed, as they follow UpdateExitPlan.
    planChanged: async (tracker) => {
      protective.watch(tracker);
      await timeExits.watch(tracker);
    },
    engine,
    clock,
    events,
    log,
    settings: {
      intervalMs: config.sessionCheckIntervalMs,
      lapseRetryMs: config.sessionLapseRetryMs,
      maxParallel: DEFAULT_EXIT_ALL_PARALLEL,
    },
  });
  const timeExits = new TimeExitScheduler({
    due: redis?.dueTimes ?? new MemoryDueTimes(),
    store,
    engine,
    clock,
    events,
    log,
    settings: {
      intervalMs: config.schedulerIntervalMs,
      retryMs: config.schedulerRetryMs,
      sessionEndDefaults: sessionEndDefaultsOf(config.sessionEndDefaults),
    },
  });
  // Only a store other processes write to can hold plans this process was not told of.
  const sharedStore = redis?.store !== undefined && store === redis.store;
  const protective = new ProtectiveExits(
    {
      engine,
      store,
      states: protectionStates,
      ...(sharedStore && redis?.protectionChanges ? { changes: redis.protectionChanges } : {}),
      events,
      clock,
      log,
      // The book evaluates the ticks the cache stores, found by the cache's own look-up. Its exits start on a
      // later turn (the trigger's claim is awaited first): every sink above has the tick by then.
      ticks: tickCache,
    },
    {
      staleAfterMs: config.ltpStaleAfterMs,
      refreshMs: sharedStore ? config.protectionRefreshMs : 0,
      // The embedded states live and die with this process: nothing to write them for but reads, which ask the book.
      flushMs: redis?.protection ? config.protectionFlushMs : 0,
      parallel: config.protectionExitParallel,
      queued: config.protectionQueue,
      claimTtlMs: config.protectionClaimTtlMs,
      retryMs: config.protectionRetryMs,
    },
  );
  if (telemetry.metering) {
    telemetry.metrics.observeReconciler(() => ({ ...reconciler.counters }));
    telemetry.metrics.observeLookupAlarms(() => engine.lookupAlarms);
  }
  const stopping = new AbortController();
  const health = new HealthState(SERVED_SERVICES);
  const services: TradingCoreServices = {
    engine,
    store,
    sessions,
    orderUpdates,
    events: hub,
    trail,
    stopping: stopping.signal,
    ticks: { cache: tickCache, sink: tickSink, resolver },
    health,
    clock,
    log,
    protection: { stateOf: (tracker) => protective.stateOf(tracker), watch: (tracker) => protective.watch(tracker) },
    timeExits,
  };

  const gate = new ShutdownGate(SUBSCRIPTIONS);
  const middleware = [
    ...telemetry.middleware,
    loggingMiddleware(log),
    gate.middleware,
    config.authToken === "" ? undefined : bearerAuthMiddleware({ token: config.authToken, openServices: openServicesOf(config) }),
    inflightExitLimit(config.maxInflightExitsPerConnection),
    ...(overrides.middleware ?? []),
  ].filter((m): m is CallMiddleware => m !== undefined);
  const engines = await startEngines(config, services, middleware, tls).catch(async (error: unknown) => {
    await redisTrail?.close(0);
    await redis?.close();
    throw error;
  });
  // Crash recovery before SERVING: every intent a previous process left is resolved (or found still pending).
  const recovered = await reconciler.runOnce({ ignoreGrace: true });
  log.info({ reconciler: recovered }, "start-up reconciliation done");
  reconciler.start();
  const dhanFeeds = dhanFeedsFromConfig(config, {
    store,
    router,
    updates: orderUpdates,
    ticks: tickSink,
    clock,
    log,
    exitWaiting: (correlationId) => signals.watching(correlationId),
    // The router's token source: a renewed token (file or SIGHUP) is used at the feeds' next login too.
    ...(dhanToken ? { token: () => dhanToken.current } : {}),
  });
  dhanFeeds?.start();
  sessionWatchdog.start();
  timeExits.start();
  await protective.start();
  health.setAll(ServingStatus.SERVING);
  const addressOf = (engine: RunningEngine) => hostPort(config.host, engine.port);
  const primary = engines[0]!;
  const address = addressOf(primary);
  const connect = engines.find((engine) => engine.engine === "connect");
  logStartupSummary(log, startupSummary(config, chosenAdapters(overrides, redis), telemetry));
  for (const engine of engines) {
    log.info(
      { address: addressOf(engine), engine: engine.engine, router: router ? config.router : "none" },
      `tradingcore (${engine.engine}) listening on ${addressOf(engine)}`,
    );
  }

  return {
    host: config.host,
    port: primary.port,
    address,
    connectAddress: connect ? addressOf(connect) : undefined,
    engines,
    services,
    router,
    reloadCredentials(why) {
      if (!dhanToken) log.warn({ why }, "no broker credentials to reload: the router is not Dhan");
      dhanToken?.reload(why);
    },
    dhanFeeds,
    sessionWatchdog,
    timeExits,
    async stop() {
      dhanToken?.stop();
      health.setAll(ServingStatus.NOT_SERVING);
      gate.refuseNewCalls();
      stopping.abort(new Error("shutting down"));
      const closing = Promise.all(engines.map((engine) => engine.close(config.shutdownGraceMs)));
      await Promise.all([reconciler.stop(), dhanFeeds?.stop(), sessionWatchdog.stop(), timeExits.stop()]);
      await protective.stop();
      const settled = await gate.settle(config.shutdownGraceMs);
      if (!settled)
        log.warn({ running: gate.runningCalls, graceMs: config.shutdownGraceMs }, "calls still running after the shutdown grace period");
      // Never abandon an exit between its intent and its result: wait for every one in flight.
      if (engine.exitsInFlight > 0 || engine.lockReleasesInFlight > 0) {
        log.info(
          { exitsInFlight: engine.exitsInFlight, lockReleases: engine.lockReleasesInFlight },
          "waiting for exits and lock releases in flight",
        );
      }
      await engine.whenIdle();
      // Every event of the exits that just finished is appended before the trail's connections close.
      if (redisTrail) await redisTrail.close(config.shutdownGraceMs);
      else await trail.close(config.shutdownGraceMs);
      hub.close();
      gate.closeStreams();
      await closing;
      await redis?.close();
      log.info({ address, reconciler: reconciler.counters }, "tradingcore stopped");
    },
  };
}

/** Services that answer without a token when auth is on: health and reflection, unless the setting closes them. */
function openServicesOf(config: Config): string[] {
  return config.authOpenHealthAndReflection ? [Health.typeName, ...REFLECTION_SERVICES.map((service) => service.typeName)] : [];
}

async function main(): Promise<void> {
  if (answeredInformationalFlag(process.argv.slice(2), serverHelp)) return;
  tuneRuntime();
  let config: Config;
  let telemetry: Telemetry;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
    telemetry = startTelemetry({ traceProbes: config.traceProbes });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`tradingcore: invalid configuration: ${error.message}\n`);
    process.exit(2);
  }
  // Signal handlers go in before anything listens: a SIGTERM that arrives while
  // the engines are still starting must still end in an orderly stop, not a kill.
  let stopSignal: string | undefined;
  let core: RunningTradingCore | undefined;
  const shutdown = (signal: string) => {
    if (stopSignal) return;
    stopSignal = signal;
    if (core) stopAndExit(core, telemetry, signal);
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  // A renewed broker token is picked up without a restart (the token file is also watched).
  process.on("SIGHUP", () => core?.reloadCredentials("SIGHUP"));
  try {
    core = await startTradingCore(config, { telemetry });
  } catch (error) {
    if (!(error instanceof RedisStartupError)) throw error;
    process.stderr.write(`tradingcore: cannot start: ${error.message}\n`);
    process.exit(1);
  }
  if (stopSignal) stopAndExit(core, telemetry, stopSignal);
}

function stopAndExit(core: RunningTradingCore, telemetry: Telemetry, signal: string): void {
  core.services.log.info({ signal }, "shutting down");
  core
    .stop()
    .then(() => telemetry.shutdown())
    .then(
      () => process.exit(0),
      (error: unknown) => {
        core.services.log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`tradingcore: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`tradingcore: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
