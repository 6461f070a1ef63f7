// Prints "N passed, N failed" from vitest's JSON report. A failed test counts
// once; a test file that failed with no failed test of its own (it did not
// load, a hook threw) counts as one more. vitest's numFailedTestSuites is not
// used: it counts every describe block around a failed test as well. A run that
// crashed before writing the report, or exited non-zero with no failure
// counted, counts as one failure so that CI can never pass by accident.
import { existsSync, readFileSync } from "node:fs";

const [reportPath, statusText] = process.argv.slice(2);
const status = Number(statusText ?? "1");
let passed = 0;
let failed = 0;
if (existsSync(reportPath)) {
  const report = JSON.parse(readFileSync(reportPath, "utf8"));
  passed = report.numPassedTests ?? 0;
  const files = report.testResults ?? [];
  const brokenFiles = files.filter(
    (file) => file.status === "failed" && !(file.assertionResults ?? []).some((test) => test.status === "failed"),
  );
  failed = (report.numFailedTests ?? 0) + brokenFiles.length;
  for (const file of brokenFiles) console.log(`failed without a failed test: ${file.name}: ${(file.message ?? "").split("\n")[0]}`);
  console.log(`skipped: ${report.numPendingTests ?? 0}, todo: ${report.numTodoTests ?? 0}`);
}
if (status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(status === 0 && failed === 0 ? 0 : 1);
