import { describe, expect, it } from "vitest";
import { serverHelp } from "../../src/cli-help.js";
import { loadConfig } from "../../src/config.js";
import { chosenAdapters, startupSummary } from "../../src/startup-summary.js";
import { disabledTelemetry } from "../../src/telemetry/telemetry.js";

const DHAN = { TRADINGCORE_ROUTER: "dhan", TRADINGCORE_DHAN_CLIENT_ID: "1000000001", TRADINGCORE_DHAN_ACCESS_TOKEN: "t" };

describe("loadConfig for Dhan's WebSocket feeds", () => {
  it("leaves both feeds off by default, with Dhan's URLs and a 0.05 tick", () => {
    expect(loadConfig([], DHAN)).toMatchObject({
      dhanOrderUpdateFeed: false,
      dhanOrderUpdateUrl: "wss://api-order-update.dhan.co",
      dhanMarketFeed: false,
      dhanMarketFeedUrl: "wss://api-feed.dhan.co",
      dhanTickSize: "0.05",
      dhanTickSizes: [],
      dhanFeedSilenceMs: 30_000,
    });
  });

  it("turns them on with the Dhan router, and reads tick sizes per segment and per instrument", () => {
    const config = loadConfig(
      ["--dhan-order-update-feed", "true", "--dhan-market-feed", "yes", "--dhan-tick-sizes", "NSE_CURRENCY=0.0025, NSE_EQ:1333=0.1"],
      DHAN,
    );
    expect(config).toMatchObject({ dhanOrderUpdateFeed: true, dhanMarketFeed: true });
    expect(config.dhanTickSizes).toEqual([
      ["NSE_CURRENCY", "0.0025"],
      ["NSE_EQ:1333", "0.1"],
    ]);
  });

  it("refuses a feed without the Dhan router, naming both settings", () => {
    expect(() => loadConfig(["--dhan-market-feed", "true"], {})).toThrow(/TRADINGCORE_DHAN_MARKET_FEED needs TRADINGCORE_ROUTER=dhan/);
    expect(() => loadConfig(["--dhan-order-update-feed", "true"], {})).toThrow(
      /TRADINGCORE_DHAN_ORDER_UPDATE_FEED needs TRADINGCORE_ROUTER=dhan/,
    );
  });

  it.each([
    [["--dhan-order-update-url", "https://api-order-update.dhan.co"], /--dhan-order-update-url: .* is not a ws\(s\) URL/],
    [["--dhan-tick-size", "0"], /--dhan-tick-size: "0" is not a positive decimal/],
    [["--dhan-tick-size", "0.0000001"], /--dhan-tick-size/],
    [["--dhan-tick-sizes", "NSE_XX=0.05"], /--dhan-tick-sizes: "NSE_XX=0.05" is not SEGMENT=size/],
    [["--dhan-tick-sizes", "NSE_EQ=-1"], /--dhan-tick-sizes/],
    [["--dhan-feed-silence-ms", "10"], /--dhan-feed-silence-ms: 10 is outside 100\.\.600000/],
  ])("refuses %j naming the setting", (argv, message) => {
    expect(() => loadConfig(argv, DHAN)).toThrow(message);
  });

  it("lists every feed setting in --help", () => {
    const help = serverHelp();
    for (const flag of [
      "dhan-order-update-feed",
      "dhan-order-update-url",
      "dhan-market-feed",
      "dhan-market-feed-url",
      "dhan-tick-size",
      "dhan-tick-sizes",
      "dhan-feed-silence-ms",
    ])
      expect(help).toContain(`--${flag} <value>`);
  });
});

describe("the start-up summary with Dhan's feeds", () => {
  it("names the feeds beside the router, with no token", () => {
    const config = loadConfig(["--dhan-order-update-feed", "true", "--dhan-market-feed", "true"], {
      ...DHAN,
      TRADINGCORE_DHAN_ACCESS_TOKEN: "secret-token",
    });
    const summary = startupSummary(config, chosenAdapters({}, undefined), disabledTelemetry());
    expect(summary.router).toBe(
      "dhan https://api.dhan.co/ (order rate limits 10/s,250/m,1000/h,7000/d in process, token from the setting) with the order update feed wss://api-order-update.dhan.co/ and the market feed wss://api-feed.dhan.co/",
    );
    expect(JSON.stringify(summary)).not.toContain("secret-token");
  });
});
