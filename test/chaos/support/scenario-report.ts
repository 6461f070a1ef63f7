/**
 * What one chaos scenario run reports: its seed and settings, every call's
 * answer counted by status, the invariant checker's figures and violations,
 * and figures of its own (orders placed while two lock nodes were down, ...).
 * `formatReport` prints it the same way in CI and in `npm run chaos`.
 */
import type { CallRecord } from "./client-plan.js";
import type { InvariantFigures, Violation } from "./exit-invariants.js";

export interface ScenarioReport {
  readonly scenario: string;
  readonly seed: number;
  readonly elapsedMs: number;
  readonly calls: number;
  /** Answers by ExitStatus name; calls that got no ExitResult as `grpc:<code>`. */
  readonly answers: Record<string, number>;
  readonly invariants: InvariantFigures;
  readonly violations: readonly Violation[];
  /** Scenario-specific figures. */
  readonly extra: Record<string, number | string>;
  /** Scenario-specific expectations that did not hold (besides the shared invariants). */
  readonly failures: readonly string[];
}

export function countAnswers(calls: readonly CallRecord[]): Record<string, number> {
  const answers: Record<string, number> = {};
  for (const call of calls) {
    const key = call.status ?? `grpc:${call.grpcCode}`;
    answers[key] = (answers[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(answers).sort(([a], [b]) => a.localeCompare(b)));
}

const pairs = (counts: Record<string, number | string>) =>
  Object.entries(counts)
    .map(([key, value]) => `${key}=${value}`)
    .join(" ");

/** A few lines per scenario: figures first, then at most `maxViolations` violations. */
export function formatReport(report: ScenarioReport, maxViolations = 20): string {
  const f = report.invariants;
  const lines = [
    `chaos ${report.scenario} seed=${report.seed} ${(report.elapsedMs / 1000).toFixed(1)}s: ${report.calls} calls, ${f.trackers} trackers, ${f.ordersPlaced} orders`,
    `  answers: ${pairs(report.answers)}`,
    `  final: ${pairs(f.finalStatuses)}; orders/tracker: ${pairs(f.ordersPerTracker)}; filled orders/tracker: ${pairs(f.filledOrdersPerTracker)}`,
    `  duplicates=${f.duplicates} lost=${f.lost} stuck=${f.stuck} violations=${report.violations.length}${Object.keys(report.extra).length ? ` ${pairs(report.extra)}` : ""}`,
    ...report.failures.map((failure) => `  FAILED: ${failure}`),
    ...report.violations.slice(0, maxViolations).map((v) => `  VIOLATION ${v.kind} ${v.orderNo}: ${v.detail}`),
  ];
  if (report.violations.length > maxViolations) lines.push(`  ... ${report.violations.length - maxViolations} more violations`);
  return lines.join("\n");
}
