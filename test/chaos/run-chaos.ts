/**
 * `npm run chaos`: the long profile. Runs every scenario (or the ones named
 * on the command line) with each seed, against servers compiled to dist/,
 * prints each run's figures and a summary, writes them all as JSON to
 * `.tmp/chaos-report.json`, and exits 1 if any invariant was violated.
 *
 *   npm run chaos                                   # every scenario, the long profile's seeds
 *   npm run chaos -- racing-clients lock-nodes      # some scenarios
 *   CHAOS_SEED=7 npm run chaos -- kill-9            # one seed again
 *   CHAOS_PROFILE=ci npm run chaos                  # the CI profile (from source)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { ChaosResources } from "./support/chaos-resources.js";
import { CI_PROFILE, LONG_PROFILE, withSeedsFromEnv } from "./support/chaos-profile.js";
import { runScenario } from "./support/run-scenario.js";
import { formatReport, type ScenarioReport } from "./support/scenario-report.js";
import { LONG_SCENARIOS } from "./scenarios/index.js";

async function main(): Promise<void> {
  const profile = withSeedsFromEnv(process.env.CHAOS_PROFILE === "ci" ? CI_PROFILE : LONG_PROFILE);
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !LONG_SCENARIOS.some((scenario) => scenario.name === name));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(", ")}; known: ${LONG_SCENARIOS.map((s) => s.name).join(", ")}`);
  const scenarios = wanted.length > 0 ? LONG_SCENARIOS.filter((scenario) => wanted.includes(scenario.name)) : LONG_SCENARIOS;
  console.log(
    `chaos profile ${profile.name}: ${profile.servers} servers (${profile.build}), ${profile.clients} client processes, seeds ${profile.seeds.join(",")}`,
  );
  const reports: ScenarioReport[] = [];
  const resources = await ChaosResources.start(profile);
  try {
    // Seed by seed, so the scenarios on one fleet's settings share it.
    for (const seed of profile.seeds) {
      for (const scenario of scenarios) {
        const report = await runScenario(scenario, profile, seed, resources);
        reports.push(report);
        console.log(formatReport(report));
      }
    }
  } finally {
    await resources.dispose();
  }
  console.log(summary(reports));
  mkdirSync(".tmp", { recursive: true });
  writeFileSync(".tmp/chaos-report.json", JSON.stringify({ profile, reports }, null, 2));
  console.log("figures written to .tmp/chaos-report.json");
  if (reports.some((report) => report.violations.length > 0 || report.failures.length > 0)) process.exitCode = 1;
}

function summary(reports: readonly ScenarioReport[]): string {
  const sum = (pick: (report: ScenarioReport) => number) => reports.reduce((total, report) => total + pick(report), 0);
  const answers: Record<string, number> = {};
  for (const report of reports)
    for (const [status, count] of Object.entries(report.answers)) answers[status] = (answers[status] ?? 0) + count;
  const perTracker: Record<string, number> = {};
  for (const report of reports)
    for (const [orders, count] of Object.entries(report.invariants.ordersPerTracker))
      perTracker[orders] = (perTracker[orders] ?? 0) + count;
  const filledPerTracker: Record<string, number> = {};
  for (const report of reports)
    for (const [orders, count] of Object.entries(report.invariants.filledOrdersPerTracker))
      filledPerTracker[orders] = (filledPerTracker[orders] ?? 0) + count;
  const pairs = (counts: Record<string, number>) =>
    Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, count]) => `${key}=${count}`)
      .join(" ");
  return [
    `chaos summary: ${reports.length} runs, ${sum((r) => r.calls)} calls, ${sum((r) => r.invariants.trackers)} trackers, ${sum((r) => r.invariants.ordersPlaced)} orders`,
    `  duplicates=${sum((r) => r.invariants.duplicates)} lost=${sum((r) => r.invariants.lost)} stuck=${sum((r) => r.invariants.stuck)} violations=${sum((r) => r.violations.length)} failed expectations=${sum((r) => r.failures.length)}`,
    `  trackers by orders in the book: ${pairs(perTracker)}; by filled orders: ${pairs(filledPerTracker)}`,
    `  answers: ${pairs(answers)}`,
  ].join("\n");
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(1);
});
