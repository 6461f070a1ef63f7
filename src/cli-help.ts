/**
 * `--help`, `-h` and `--version` of the server, generated from the settings
 * table (config.ts) so a setting cannot exist without being listed. Answered
 * before the configuration is read: asking for help never fails on a bad
 * variable in the environment.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { envNameOf, SETTINGS } from "./config.js";

export interface HelpEntry {
  /** `--flag <value>` or `--flag`. */
  readonly usage: string;
  readonly description: string;
  /** Where else the value comes from and what it is when unset, e.g. "TRADINGCORE_PORT; default 50051". */
  readonly source?: string;
}

/** The package's name and version, from the package.json above this file (source or dist/ build alike). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (manifest.name === "tradingcore") return `${manifest.name} ${manifest.version ?? "unknown"}`;
    } catch {
      // No package.json here: keep looking further up.
    }
    const parent = dirname(dir);
    if (parent === dir) return "tradingcore (version unknown)";
    dir = parent;
  }
}

/** Which informational flag `argv` asks for, if any; the first one wins. */
export function informationalFlag(argv: readonly string[]): "help" | "version" | undefined {
  for (const arg of argv) {
    if (arg === "--") return undefined;
    if (arg === "--help" || arg === "-h") return "help";
    if (arg === "--version") return "version";
  }
  return undefined;
}

/** Prints the help or the version when `argv` asks for one; answers whether it did (then the caller just returns). */
export function answeredInformationalFlag(argv: readonly string[], help: () => string): boolean {
  const asked = informationalFlag(argv);
  if (asked) process.stdout.write(asked === "help" ? help() : `${packageVersion()}\n`);
  return asked !== undefined;
}

/** Aligned two-column text: usage on the left, description (and source) on the right, wrapped. */
export function formatHelpEntries(entries: readonly HelpEntry[], width = 100): string {
  const left = Math.min(40, Math.max(...entries.map((entry) => entry.usage.length)) + 2);
  const lines: string[] = [];
  for (const entry of entries) {
    const text = entry.source ? `${entry.description} [${entry.source}]` : entry.description;
    const wrapped = wrap(text, width - left - 2);
    const first =
      entry.usage.length + 2 <= left
        ? `  ${entry.usage.padEnd(left)}${wrapped[0]}`
        : `  ${entry.usage}\n  ${" ".repeat(left)}${wrapped[0]}`;
    lines.push(first, ...wrapped.slice(1).map((line) => `  ${" ".repeat(left)}${line}`));
  }
  return lines.join("\n");
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, line];
}

function shownDefault(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? "none" : value.join(",");
  if (value === "") return "none";
  return String(value);
}

/** The server's `--help` text: every setting with its variable and default. */
export function serverHelp(): string {
  const settings: HelpEntry[] = Object.values(SETTINGS).map((setting) => {
    const alias = "envAlias" in setting ? ` or ${setting.envAlias}` : "";
    return {
      usage: `--${setting.flag} <value>`,
      description: setting.description,
      source: `${envNameOf(setting.flag)}${alias}; default ${shownDefault(setting.defaultValue)}`,
    };
  });
  return [
    `${packageVersion()}: a gRPC sidecar that exits trading positions exactly once.`,
    "",
    "Usage: npm start -- [--setting value]...",
    "       node dist/src/main.js [--setting value]...",
    "",
    "Every setting is a flag or an environment variable; the flag wins. A bad value stops",
    "start-up (exit 2) with a message naming the setting. OTEL_EXPORTER_OTLP_ENDPOINT turns on",
    "tracing and metrics (see the README's Telemetry section).",
    "",
    "Settings:",
    formatHelpEntries(settings),
    "",
    "Information:",
    formatHelpEntries([
      { usage: "-h, --help", description: "print this help and exit" },
      { usage: "--version", description: "print the version and exit" },
    ]),
    "",
  ].join("\n");
}
