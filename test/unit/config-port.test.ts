import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";

describe("the listening port on a platform that assigns one in PORT", () => {
  it("is PORT when TRADINGCORE_PORT is unset", () => {
    expect(loadConfig([], { PORT: "8080" }).port).toBe(8080);
  });

  it("is TRADINGCORE_PORT when both are set, and --port over both", () => {
    expect(loadConfig([], { PORT: "8080", TRADINGCORE_PORT: "9090" }).port).toBe(9090);
    expect(loadConfig(["--port", "7070"], { PORT: "8080", TRADINGCORE_PORT: "9090" }).port).toBe(7070);
  });

  it("leaves the connect engine's port alone", () => {
    expect(loadConfig([], { PORT: "8080" }).connectPort).toBe(50052);
  });

  it("refuses a bad PORT naming PORT", () => {
    expect(() => loadConfig([], { PORT: "http" })).toThrow(/^PORT: "http" is not a whole number/);
  });
});
