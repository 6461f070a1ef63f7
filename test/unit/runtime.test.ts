import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  optionalDependencies?: Record<string, string>;
};
const pinned = manifest.optionalDependencies?.[`node-${process.platform}-${process.arch}`];

describe("the test suite's runtime", () => {
  // npm puts the pinned platform package's `node` first on PATH; a suite run on the system's older Node
  // would pass tests the shipped server never runs.
  it.skipIf(pinned === undefined)("is the Node that package.json pins for this platform", () => {
    expect(process.version).toBe(`v${pinned}`);
  });
});
