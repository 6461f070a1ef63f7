/**
 * Test projects. The end-to-end suite runs twice, once per server engine
 * (TRADINGCORE_TEST_ENGINE), so every e2e test proves both engines behave
 * the same; everything else runs once.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const E2E = "test/e2e/**/*.test.ts";

export default defineConfig({
  // This file lives in test/; paths below are relative to the repository root.
  root: fileURLToPath(new URL("..", import.meta.url)),
  test: {
    projects: [
      { extends: true, test: { name: "unit", include: ["test/**/*.test.ts"], exclude: [E2E, "**/node_modules/**"] } },
      { extends: true, test: { name: "e2e:grpc-js", include: [E2E], env: { TRADINGCORE_TEST_ENGINE: "grpc-js" } } },
      { extends: true, test: { name: "e2e:connect", include: [E2E], env: { TRADINGCORE_TEST_ENGINE: "connect" } } },
    ],
  },
});
