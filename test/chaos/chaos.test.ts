/**
 * The chaos suite's CI profile: every CI scenario once, with the profile's
 * seed (CHAOS_SEED replaces it), against real processes: three tradingcore
 * servers from source, three Redis lock nodes, the store's Redis with the
 * shared paper book, and client processes. Each run prints its figures; a
 * violated invariant fails the run and names the tracker and what was wrong.
 * `npm run chaos` runs the long profile.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChaosResources } from "./support/chaos-resources.js";
import { CI_PROFILE, withSeedsFromEnv } from "./support/chaos-profile.js";
import { runScenario } from "./support/run-scenario.js";
import { formatReport } from "./support/scenario-report.js";
import { CI_SCENARIOS } from "./scenarios/index.js";

const PROFILE = withSeedsFromEnv(CI_PROFILE);
const SCENARIO_TIMEOUT_MS = 240_000;

describe("the chaos suite (CI profile) against three servers, three lock nodes and an AOF store", () => {
  let resources: ChaosResources | undefined;
  beforeAll(async () => {
    resources = await ChaosResources.start(PROFILE);
  }, 120_000);
  afterAll(async () => {
    await resources?.dispose();
  }, 60_000);

  for (const scenario of CI_SCENARIOS) {
    for (const seed of PROFILE.seeds) {
      it(`${scenario.name} (seed ${seed}) keeps one order per exit, EXITED filled, nothing lost or stuck`, {
        timeout: SCENARIO_TIMEOUT_MS,
      }, async () => {
        const report = await runScenario(scenario, PROFILE, seed, resources!);
        console.log(formatReport(report));
        expect(report.violations).toEqual([]);
        expect(report.failures).toEqual([]);
        expect(report.invariants.ordersPlaced).toBeGreaterThan(0);
      });
    }
  }
});
