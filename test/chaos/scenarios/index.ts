/**
 * The chaos scenarios. `CI_SCENARIOS` run in the normal test suite, once
 * with the CI profile; the long profile (`npm run chaos`) runs
 * `LONG_SCENARIOS` with more trackers, clients and seeds. A scenario that
 * fails on the current code belongs in the long list only, with a note in
 * the README's "Chaos suite". The scenarios on PLAIN_FLEET come first, one
 * after another, so they share one fleet.
 */
import type { ScenarioDefinition } from "../support/run-scenario.js";
import { killAfterAcceptance } from "./kill-after-acceptance.js";
import { lockNodesLost } from "./lock-nodes-lost.js";
import { pausedPastLockTtl, pausedPastUnknownGrace } from "./paused-in-router-call.js";
import { protectiveTriggersPaused } from "./protective-triggers-paused.js";
import { racingClients } from "./racing-clients.js";
import { routerFaults } from "./router-faults.js";
import { sessionLapseKilled } from "./session-lapse-kill.js";
import { storeRedisKilled } from "./store-redis-killed.js";

export const CI_SCENARIOS: readonly ScenarioDefinition[] = [
  racingClients,
  lockNodesLost,
  storeRedisKilled,
  killAfterAcceptance,
  pausedPastLockTtl,
  pausedPastUnknownGrace,
  routerFaults,
  protectiveTriggersPaused,
  sessionLapseKilled,
];

// Every scenario passes on the current code, so the long profile runs the same ones; one that does
// not would be appended here only.
export const LONG_SCENARIOS: readonly ScenarioDefinition[] = [...CI_SCENARIOS];
