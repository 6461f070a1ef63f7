/**
 * Test projects. The end-to-end suite and the robustness (fuzz) suite run
 * twice, once per server engine (TRADINGCORE_TEST_ENGINE), so every such test
 * proves both engines behave the same; everything else runs once.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const E2E = "test/e2e/**/*.test.ts";
const FUZZ = "test/fuzz/**/*.test.ts";
const INTEROP = "test/interop/**/*.test.ts";

export default defineConfig({
  // This file lives in test/; paths below are relative to the repository root.
  root: fileURLToPath(new URL("..", import.meta.url)),
  test: {
    // Here, not on the command line: projects do not inherit CLI timeouts. Generous, because CI runs
    // on a busy machine where starting a server process can take seconds.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: "unit", include: ["test/**/*.test.ts"], exclude: [E2E, FUZZ, INTEROP, "**/node_modules/**"] } },
      // Clients in other languages and tools (grpcurl, ghz, Python, Go) against both engines of one server.
      { extends: true, test: { name: "interop", include: [INTEROP] } },
      { extends: true, test: { name: "e2e:grpc-js", include: [E2E, FUZZ], env: { TRADINGCORE_TEST_ENGINE: "grpc-js" } } },
      { extends: true, test: { name: "e2e:connect", include: [E2E, FUZZ], env: { TRADINGCORE_TEST_ENGINE: "connect" } } },
    ],
  },
});
