/**
 * V8 settings the server process runs with, applied once at its start
 * (main.ts's command line, the bench's servers) through Node's public
 * `v8.setFlagsFromString`.
 *
 * Allocation-site pretenuring is off. V8 learns, per allocation site, that
 * objects survive, and then allocates that site's objects in the old
 * generation directly. On the ingest path it comes to that for sites whose
 * objects nearly all die within milliseconds (in every run of this server
 * measured; in some runs only of a minimal grpc-js server doing the same
 * decoding). Objects allocated old then keep the young objects they point to
 * alive at every scavenge, which promotes them in turn. Measured with
 * `--trace-gc-nvp` on a PublishTicks stream shaped as the bench's (README,
 * Measuring): scavenges promoted about 6 MB each and paused 8 to 10 ms, and a
 * tick cost about 2.2 µs of server CPU in the bench. Without pretenuring: under
 * 0.1 MB, 0.6 ms and 1.2 µs. Long-lived objects (trackers, plans, states) are
 * still promoted, by the scavenger, once they have survived.
 */
import { setFlagsFromString } from "node:v8";

export const V8_FLAGS = ["--no-allocation-site-pretenuring"] as const;

export function tuneRuntime(): void {
  for (const flag of V8_FLAGS) setFlagsFromString(flag);
}
