/**
 * How the chaos suite starts a tradingcore process: from the TypeScript
 * source through tsx (the CI profile, no build needed), or from the compiled
 * dist/ (the long profile, `npm run chaos`, which builds first), as
 * `npm start` runs it. The process helper picks the entry point next to
 * itself, so the compiled helper starts the compiled server.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { TradingCoreProcess, TradingCoreProcessOptions } from "../../../src/loadtest/tradingcore-process.js";

export type ServerBuild = "source" | "dist";

export type StartServer = (options: TradingCoreProcessOptions) => Promise<TradingCoreProcess>;

const DIST_HELPER = new URL("../../../dist/src/loadtest/tradingcore-process.js", import.meta.url);

export async function serverStarter(build: ServerBuild): Promise<StartServer> {
  if (build === "source") return (await import("../../../src/loadtest/tradingcore-process.js")).startTradingCoreProcess;
  if (!existsSync(fileURLToPath(DIST_HELPER))) throw new Error(`${fileURLToPath(DIST_HELPER)} is missing: run \`npm run build\` first`);
  const compiled = (await import(DIST_HELPER.href)) as typeof import("../../../src/loadtest/tradingcore-process.js");
  return compiled.startTradingCoreProcess;
}
