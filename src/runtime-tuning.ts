/**
 * V8 settings the server process runs with, applied once at its start
 * (main.ts's command line, the bench's servers) through Node's public
 * `v8.setFlagsFromString`.
 *
 * Allocation-site pretenuring is off. V8 learns, per allocation site, that
 * objects survive, and then allocates that site's objects in the old
 * generation directly. On the ingest path it comes to that for sites whose
 * objects nearly all die within milliseconds (whether it does depends on
 * timing: a minimal grpc-js server doing the same decoding did so in one run
 * of three). Objects allocated old then keep the young objects they point to
 * alive at every scavenge, which promotes them in turn. Measured on the bench's
 * PublishTicks stream (README, Measuring): scavenges promoted about 6 MB each
 * and paused about 9 ms, a mark-compact came every few hundred thousand
 * ticks, and a tick cost about 2.2 µs of server CPU. Without pretenuring the
 * figures are under 0.1 MB, 0.6 ms and 1.2 µs, and the long-lived objects
 * (trackers, plans, states) are simply promoted by the scavenger as before.
 */
import { setFlagsFromString } from "node:v8";

export const V8_FLAGS = ["--no-allocation-site-pretenuring"] as const;

export function tuneRuntime(): void {
  for (const flag of V8_FLAGS) setFlagsFromString(flag);
}
