/**
 * When and with what a measurement ran: the start time, tradingcore's
 * version (from the package.json above this file, in src/ or in dist/) and
 * node's.
 */
import { readFileSync } from "node:fs";
import type { RunInfo } from "./loadtest-report.js";

function packageVersion(): string {
  for (const up of ["../../package.json", "../../../package.json"]) {
    try {
      const found = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (found.name === "tradingcore" && found.version) return found.version;
    } catch {
      // Not at this depth: src/loadtest and dist/src/loadtest differ by one.
    }
  }
  return "unknown";
}

export function runInfo(startedAt: Date): RunInfo {
  return { startedAt: startedAt.toISOString(), version: packageVersion(), node: process.version };
}
