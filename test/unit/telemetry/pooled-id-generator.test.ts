import { describe, expect, it } from "vitest";
import { PooledIdGenerator } from "../../../src/telemetry/pooled-id-generator.js";

describe("PooledIdGenerator", () => {
  it("gives W3C ids: 32 and 16 lower-case hex characters, never all zeros", () => {
    const ids = new PooledIdGenerator();
    for (let i = 0; i < 2_000; i++) {
      expect(ids.generateTraceId()).toMatch(/^(?!0{32})[0-9a-f]{32}$/);
      expect(ids.generateSpanId()).toMatch(/^(?!0{16})[0-9a-f]{16}$/);
    }
  });

  it("does not repeat an id across many pools", () => {
    const ids = new PooledIdGenerator();
    const seen = new Set<string>();
    for (let i = 0; i < 50_000; i++) seen.add(ids.generateSpanId());
    expect(seen.size).toBe(50_000);
  });
});
