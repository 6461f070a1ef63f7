/**
 * How a child `node` runs one of this project's entry points: the built
 * JavaScript (dist/, plain node, as `npm start` runs the server) when the
 * caller itself runs from the build, the TypeScript source through tsx when
 * it runs from source (tests, `npx tsx`).
 */
import { fileURLToPath } from "node:url";

export interface EntryPoint {
  /** Arguments for `node` before the entry point's own arguments. */
  readonly nodeArgs: readonly string[];
  /** The project's root directory (where package.json is). */
  readonly root: string;
}

/** `source` is the entry point's path relative to the caller (`callerUrl`, its `import.meta.url`), as a `.ts` file. */
export function entryPoint(callerUrl: string, source: string): EntryPoint {
  const built = callerUrl.endsWith(".js");
  const script = fileURLToPath(new URL(built ? source.replace(/\.ts$/, ".js") : source, callerUrl));
  // Callers live in src/loadtest/, which the build puts under dist/.
  const root = fileURLToPath(new URL(built ? "../../.." : "../..", callerUrl));
  return { nodeArgs: built ? [script] : ["--import", "tsx", script], root };
}
