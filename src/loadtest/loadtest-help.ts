/** `npm run loadtest -- --help`: generated from the flag table the parser reads (loadtest-options.ts). */
import { formatHelpEntries, packageVersion } from "../cli-help.js";
import { LOADTEST_FLAGS } from "./loadtest-options.js";

export function loadtestHelp(): string {
  const flags = Object.entries(LOADTEST_FLAGS).map(([flag, spec]) => ({
    usage: spec.type === "string" ? `--${flag} <value>` : `--${flag}`,
    description: spec.description,
    ...("default" in spec && spec.type === "string" ? { source: `default ${spec.default}` } : {}),
  }));
  return [
    `${packageVersion()} load test: drives ExecuteExit (and GetLtp) over gRPC and says where the time went, from the server's own spans.`,
    "",
    "Usage: npm run loadtest -- [--flag value]...",
    "",
    "Without --target it starts a server itself, tracing to its own OTLP receiver. With --target, start",
    "that server with OTEL_EXPORTER_OTLP_ENDPOINT set to the receiver address this tool prints.",
    "",
    "Flags:",
    formatHelpEntries([
      ...flags,
      { usage: "-h, --help", description: "print this help and exit" },
      { usage: "--version", description: "print the version and exit" },
    ]),
    "",
  ].join("\n");
}
