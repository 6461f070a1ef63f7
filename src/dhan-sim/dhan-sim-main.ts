/**
 * `npm run dhan-sim`: the Dhan v2 simulator as a process, to rehearse
 * tradingcore against before real money (see the README's Dhan section).
 * Prints one JSON line with its URLs, then serves until SIGTERM/SIGINT.
 */
import { parseArgs } from "node:util";
import { DhanSimulator } from "./dhan-simulator.js";

const HELP = `npm run dhan-sim -- [options]

  --port <n>              port of the REST API and both WebSockets (default 8787; 0 picks one)
  --host <address>        address to listen on (default 127.0.0.1)
  --client-id <id>        the account's client id (default 1000000001)
  --access-token <token>  the token it accepts (default sim-access-token)
  --token-ttl-ms <ms>     the token expires this long after start (default: never)
  --pending-after-ms <ms> TRANSIT to PENDING (default 200)
  --traded-after-ms <ms>  PENDING to TRADED (default 300)
  --per-second <n>        order limit a second (default 10); also --per-minute (250), --per-hour (1000), --per-day (7000)
  --seed <n>              seed of the fault draws (default 1)
  --fault-rate <0..1>     share of order POSTs meeting a fault: DH-904, DH-908, DH-909 after placing, a cut connection
  --reject-rate <0..1>    share of accepted orders rejected after acceptance
  --partial-rate <0..1>   share of accepted orders half filled, then cancelled
  --tick-interval-ms <ms> subscribed instruments tick this often (a random walk; default 1000, 0 for none)
  -h, --help              this text
`;

const options = {
  port: { type: "string" },
  host: { type: "string" },
  "client-id": { type: "string" },
  "access-token": { type: "string" },
  "token-ttl-ms": { type: "string" },
  "pending-after-ms": { type: "string" },
  "traded-after-ms": { type: "string" },
  "per-second": { type: "string" },
  "per-minute": { type: "string" },
  "per-hour": { type: "string" },
  "per-day": { type: "string" },
  seed: { type: "string" },
  "fault-rate": { type: "string" },
  "reject-rate": { type: "string" },
  "partial-rate": { type: "string" },
  "tick-interval-ms": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function numberOf(values: Record<string, string | boolean | undefined>, name: string, min: number, max: number): number | undefined {
  const text = values[name];
  if (typeof text !== "string") return undefined;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < min || value > max) {
    process.stderr.write(`dhan-sim: --${name} must be a number from ${min} to ${max}, not "${text}"\n`);
    process.exit(2);
  }
  return value;
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: process.argv.slice(2), options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    process.stderr.write(`dhan-sim: ${error instanceof Error ? error.message : String(error)}\n\n${HELP}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const limit = (name: string) => numberOf(values, name, 1, 1_000_000);
  const rates = Object.fromEntries(
    ["per-second", "per-minute", "per-hour", "per-day"].flatMap((name) => {
      const value = limit(name);
      return value === undefined ? [] : [[name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase()), value]];
    }),
  );
  const tokenTtlMs = numberOf(values, "token-ttl-ms", 1, Number.MAX_SAFE_INTEGER);
  const sim = new DhanSimulator({
    ...(typeof values["client-id"] === "string" ? { clientId: values["client-id"] } : {}),
    ...(typeof values["access-token"] === "string" ? { accessToken: values["access-token"] } : {}),
    ...(tokenTtlMs === undefined ? {} : { tokenTtlMs }),
    delays: {
      pendingAfterMs: numberOf(values, "pending-after-ms", 0, 3_600_000) ?? 200,
      tradedAfterMs: numberOf(values, "traded-after-ms", 0, 3_600_000) ?? 300,
    },
    rateLimits: rates,
    seed: numberOf(values, "seed", 0, 2 ** 32 - 1) ?? 1,
    faultRate: numberOf(values, "fault-rate", 0, 1) ?? 0,
    rejectRate: numberOf(values, "reject-rate", 0, 1) ?? 0,
    partialRate: numberOf(values, "partial-rate", 0, 1) ?? 0,
    tickIntervalMs: numberOf(values, "tick-interval-ms", 0, 3_600_000) ?? 1_000,
  });
  await sim.start(numberOf(values, "port", 0, 65_535) ?? 8787, typeof values.host === "string" ? values.host : "127.0.0.1");
  process.stdout.write(
    `${JSON.stringify({
      msg: "dhan-sim listening",
      baseUrl: sim.baseUrl,
      orderUpdateUrl: sim.orderUpdateUrl,
      marketFeedUrl: sim.marketFeedUrl,
      clientId: sim.account.clientId,
    })}\n`,
  );
  const stop = () => void sim.stop().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

void main();
