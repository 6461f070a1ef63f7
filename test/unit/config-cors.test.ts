import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("--cors-allowed-origins", () => {
  it("allows no origin by default", () => {
    expect(loadConfig([], {}).corsAllowedOrigins).toEqual([]);
  });

  it("reads a comma-separated list of origins from the flag or TRADINGCORE_CORS_ALLOWED_ORIGINS, and * for any", () => {
    expect(loadConfig(["--cors-allowed-origins", "https://app.example:8443, http://localhost:5173"], {}).corsAllowedOrigins).toEqual([
      "https://app.example:8443",
      "http://localhost:5173",
    ]);
    expect(loadConfig([], { TRADINGCORE_CORS_ALLOWED_ORIGINS: "*" }).corsAllowedOrigins).toEqual(["*"]);
  });

  it.each([
    ["a path after the origin", "https://app.example/app", /origin 1 .*nothing after it/],
    ["a trailing slash", "http://localhost:5173/", /origin 1 .*nothing after it/],
    ["not a URL", "app.example", /origin 1 .*is not a URL/],
    ["another scheme", "ftp://app.example", /origin 1 .*scheme/],
  ])("refuses %s, naming the setting and the origin", (_what, value, message) => {
    expect(() => loadConfig(["--cors-allowed-origins", value], {})).toThrow(ConfigError);
    expect(() => loadConfig(["--cors-allowed-origins", value], {})).toThrow(message);
    expect(() => loadConfig(["--cors-allowed-origins", value], {})).toThrow(/cors-allowed-origins|CORS_ALLOWED_ORIGINS/);
  });
});
