import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { V8_FLAGS } from "../../src/runtime-tuning.js";

describe("the V8 settings the server runs with", () => {
  // v8.setFlagsFromString only prints an unknown flag to stderr: a runtime upgrade that dropped one
  // would silently bring back what it turned off.
  it("are flags the pinned runtime's V8 knows", () => {
    const options = execFileSync(process.execPath, ["--v8-options"], { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    for (const flag of V8_FLAGS) {
      const name = flag.replace(/^--(no-)?/, "");
      expect(options, flag).toMatch(new RegExp(`^\\s+--${name} `, "m"));
    }
  });
});
