/**
 * The layout's dependency rules, checked on every source file's imports:
 * the exit core knows no transport or store client, the domain knows nothing
 * of ours outside itself and the generated contract, telemetry plugs into the server without importing
 * it, and the server gets its settings from main.ts rather than reading the
 * configuration (or borrowing from the client package) itself.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

interface SourceFile {
  /** Path under src/, with forward slashes: `server/routes.ts`; an import's target is resolved the same way (`../gen/…`). */
  readonly path: string;
  readonly text: string;
}

interface Rule {
  readonly name: string;
  readonly appliesTo: (path: string) => boolean;
  /** Whether the import breaks the rule; `target` is the imported file under src/ (undefined for a package). */
  readonly forbids: (specifier: string, target: string | undefined) => boolean;
}

const STORE_AND_TRANSPORT_PACKAGES = /^(redis|ioredis|@redis\/|@sesamecare-oss\/redlock|@grpc\/|@connectrpc\/)/;

const RULES: readonly Rule[] = [
  {
    name: "exit/ imports no Redis, grpc-js or Connect package",
    appliesTo: (path) => path.startsWith("exit/"),
    forbids: (specifier) => STORE_AND_TRANSPORT_PACKAGES.test(specifier),
  },
  {
    // The generated contract's enums (ExitStatus, Side) are the domain's vocabulary, not a layer above it.
    name: "domain/ imports nothing of ours outside domain/ but the generated contract",
    appliesTo: (path) => path.startsWith("domain/"),
    forbids: (specifier, target) => specifier.startsWith(".") && !target?.startsWith("domain/") && !target?.startsWith("../gen/"),
  },
  {
    name: "telemetry/ does not import server/",
    appliesTo: (path) => path.startsWith("telemetry/"),
    forbids: (_specifier, target) => target?.startsWith("server/") ?? false,
  },
  {
    name: "server/ imports neither client/ nor the configuration",
    appliesTo: (path) => path.startsWith("server/"),
    forbids: (_specifier, target) => (target?.startsWith("client/") ?? false) || /^config(-[\w-]+)?\.ts$/.test(target ?? ""),
  },
];

/** Static imports and re-exports, side-effect imports and dynamic `import("…")`. */
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g;

function violations(files: readonly SourceFile[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    for (const [, specifier] of file.text.matchAll(IMPORT)) {
      if (specifier === undefined) continue;
      const target = specifier.startsWith(".")
        ? join(dirname(file.path), specifier).replace(/\\/g, "/").replace(/\.js$/, ".ts")
        : undefined;
      for (const rule of RULES) {
        if (rule.appliesTo(file.path) && rule.forbids(specifier, target)) found.push(`${file.path} imports ${specifier}: ${rule.name}`);
      }
    }
  }
  return found;
}

function sourceFiles(dir = SRC): SourceFile[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    if (!entry.name.endsWith(".ts")) return [];
    return [{ path: relative(SRC, full).replace(/\\/g, "/"), text: readFileSync(full, "utf8") }];
  });
}

describe("the source tree's imports", () => {
  it("break none of the layout's dependency rules", () => {
    const files = sourceFiles();
    expect(files.some((file) => file.path === "server/start-engines.ts")).toBe(true);
    expect(violations(files)).toEqual([]);
  });
});

describe("an import that breaks a rule", () => {
  it.each([
    ["exit/x.ts", 'import { createClient } from "redis";', "exit/ imports no Redis"],
    ["exit/x.ts", 'import type { Server } from "@grpc/grpc-js";', "exit/ imports no Redis, grpc-js or Connect"],
    ["exit/x.ts", 'import { Code } from "@connectrpc/connect";', "exit/ imports no Redis, grpc-js or Connect"],
    ["domain/x.ts", 'import { Clock } from "../exit/ports.js";', "domain/ imports nothing of ours"],
    ["telemetry/x.ts", 'import type { CallInfo } from "../server/routes.js";', "telemetry/ does not import server/"],
    ["server/grpc-js/x.ts", 'export { createTradingCoreClient } from "../../client/connect-client.js";', "server/ imports neither"],
    ["server/x.ts", 'const { loadConfig } = await import("../config.js");', "server/ imports neither"],
    ["server/x.ts", 'import {\n  TRANSPORT_SETTINGS,\n} from "../config-transport.js";', "server/ imports neither"],
  ])("is reported: %s with %j", (path, text, rule) => {
    const [violation] = violations([{ path, text }]);
    expect(violation).toContain(rule);
  });

  it("is not confused with an allowed one", () => {
    expect(
      violations([
        { path: "domain/x.ts", text: 'import Decimal from "decimal.js";\nimport { Side } from "../../gen/tradingcore/v1/common_pb.js";' },
        { path: "server/x.ts", text: 'import type { CallMiddleware } from "../rpc/call-middleware.js";' },
        {
          path: "telemetry/x.ts",
          text: 'import { toConnectError } from "../rpc/error-codes.js";\nimport { ConfigError } from "../config.js";',
        },
      ]),
    ).toEqual([]);
  });
});
