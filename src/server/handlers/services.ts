import type { ExitEngine } from "../../exit/exit-engine.js";
import type { ExitEventHub } from "../../exit/exit-event-hub.js";
import type { ExitTrail } from "../../exit/exit-trail.js";
import type { OrderUpdateHandler } from "../../exit/order-update-handler.js";
import type { SessionStore } from "../../session/session-store.js";
import type { Clock, ExitLog, LtpResolver, TrackerStore } from "../../exit/ports.js";
import type { ProtectionState } from "../../domain/exit-plan.js";
import type { TrackerRecord } from "../../domain/tracker.js";
import type { MemoryTickCache } from "../../ticks/memory-tick-cache.js";
import type { TickSink } from "../../ticks/tick.js";
import type { HealthState } from "./health-state.js";

/** Everything the RPC handlers use, assembled by the composition root. */
export interface TradingCoreServices {
  readonly engine: ExitEngine;
  readonly store: TrackerStore;
  /** The dead-man switch's sessions (SessionService, and RegisterTracker under a session). */
  readonly sessions: SessionStore;
  readonly orderUpdates: OrderUpdateHandler;
  /** Every exit event as it is appended (the trail's follower feeds it), for WatchExits. */
  readonly events: ExitEventHub;
  /** The audit trail, for WatchExits' replay and QueryExits. */
  readonly trail: ExitTrail;
  /** Aborts when shutdown starts: long calls (ExitAll) start no new work after it. */
  readonly stopping: AbortSignal;
  /** The memory cache answers StreamLtp; `sink` receives published ticks (the cache, plus write-behind when configured). */
  readonly ticks: { readonly cache: MemoryTickCache; readonly sink: TickSink; readonly resolver: LtpResolver };
  readonly health: HealthState;
  /** Protection states for tracker answers; `watch` is told of every tracker whose plan was set or changed here. */
  readonly protection: {
    /** Where the tracker's protection stands (its trail, peak, armed flags), the freshest this process knows. */
    stateOf(tracker: TrackerRecord): Promise<ProtectionState | undefined>;
    watch(tracker: TrackerRecord): void;
  };
  /** The time-exit scheduler, told of every tracker whose plan was set or changed here (its due times are recorded before the answer). */
  readonly timeExits: { watch(tracker: TrackerRecord): Promise<void> };
  readonly clock: Clock;
  readonly log: ExitLog;
}
