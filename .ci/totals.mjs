// Prints "N passed, N failed" from vitest's JSON report. A run that crashed
// before writing the report, or exited non-zero with no failed test, counts
// as one failure so that CI can never pass by accident.
import { existsSync, readFileSync } from "node:fs";

const [reportPath, statusText] = process.argv.slice(2);
const status = Number(statusText ?? "1");
let passed = 0;
let failed = 0;
if (existsSync(reportPath)) {
  const report = JSON.parse(readFileSync(reportPath, "utf8"));
  passed = report.numPassedTests ?? 0;
  failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
  console.log(`skipped: ${report.numPendingTests ?? 0}, todo: ${report.numTodoTests ?? 0}`);
}
if (status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(status === 0 && failed === 0 ? 0 : 1);
