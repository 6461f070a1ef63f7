/**
 * The settings of Dhan's two WebSocket feeds, which tradingcore consumes
 * itself when asked (both off by default; only with `--router dhan`): the
 * order update feed and the market feed. Part of SETTINGS (config.ts); same
 * flag and variable rules.
 */
import { bool, integer, type Parser } from "./config-parsers.js";

const webSocketUrl: Parser<string> = (value) => {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new Error(`"${value}" is not a URL`);
  }
  if (parsed.protocol !== "wss:" && parsed.protocol !== "ws:") throw new Error(`"${value}" is not a ws(s) URL`);
  return value;
};

const TICK_SIZE = /^(0|[1-9][0-9]{0,6})(\.[0-9]{1,6})?$/;

/** A tick size: a positive decimal of at most 6 places, kept as its text (main.ts makes it a decimal). */
const tickSize: Parser<string> = (value) => {
  const text = value.trim();
  if (!TICK_SIZE.test(text) || /^0(\.0*)?$/.test(text)) throw new Error(`"${value}" is not a positive decimal of at most 6 places`);
  return text;
};

const SEGMENT_NAMES = ["IDX_I", "NSE_EQ", "NSE_FNO", "NSE_CURRENCY", "BSE_EQ", "BSE_FNO", "BSE_CURRENCY", "MCX_COMM"];
const MAX_TICK_SIZE_OVERRIDES = 1_000;

/** `SEGMENT=size` or `SEGMENT:securityId=size`, comma separated: tick sizes other than the default. */
export const tickSizeOverrides: Parser<readonly (readonly [string, string])[]> = (value) => {
  const entries = value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  if (entries.length > MAX_TICK_SIZE_OVERRIDES) throw new Error(`${entries.length} entries, more than ${MAX_TICK_SIZE_OVERRIDES}`);
  return entries.map((entry) => {
    const match = /^([A-Z_]+)(?::([0-9]{1,10}))?=(.+)$/.exec(entry);
    if (!match || !SEGMENT_NAMES.includes(match[1]!))
      throw new Error(`"${entry.slice(0, 60)}" is not SEGMENT=size or SEGMENT:securityId=size (segments ${SEGMENT_NAMES.join(", ")})`);
    return [match[2] ? `${match[1]}:${match[2]}` : match[1]!, tickSize(match[3]!)] as const;
  });
};

export const DHAN_FEED_SETTINGS = {
  dhanOrderUpdateFeed: {
    flag: "dhan-order-update-feed",
    description: "router dhan: consume Dhan's order update WebSocket (fills and late rejections reach trackers without ApplyOrderUpdate)",
    defaultValue: false,
    parse: bool,
  },
  dhanOrderUpdateUrl: {
    flag: "dhan-order-update-url",
    description: "Dhan order update WebSocket URL",
    defaultValue: "wss://api-order-update.dhan.co",
    parse: webSocketUrl,
  },
  dhanMarketFeed: {
    flag: "dhan-market-feed",
    description: "router dhan: take ticks from Dhan's market feed WebSocket for the open trackers' instruments, beside PublishTicks",
    defaultValue: false,
    parse: bool,
  },
  dhanMarketFeedUrl: {
    flag: "dhan-market-feed-url",
    description: "Dhan market feed WebSocket URL (the version, token, clientId and authType query is added)",
    defaultValue: "wss://api-feed.dhan.co",
    parse: webSocketUrl,
  },
  dhanMarketFeedRefreshMs: {
    flag: "dhan-market-feed-refresh-ms",
    description: "how often the market feed's subscriptions follow the open trackers, ms",
    defaultValue: 5_000,
    parse: integer(100, 600_000),
  },
  dhanTickSize: {
    flag: "dhan-tick-size",
    description: "tick size the market feed's float prices are rounded to",
    defaultValue: "0.05",
    parse: tickSize,
  },
  dhanTickSizes: {
    flag: "dhan-tick-sizes",
    description: "tick sizes other than --dhan-tick-size: SEGMENT=size or SEGMENT:securityId=size, comma separated",
    defaultValue: [] as readonly (readonly [string, string])[],
    parse: tickSizeOverrides,
  },
  dhanFeedSilenceMs: {
    flag: "dhan-feed-silence-ms",
    description: "a feed connection that carries no frame (message, ping, pong) this long is replaced, ms",
    defaultValue: 30_000,
    parse: integer(100, 600_000),
  },
  dhanFeedReconnectMaxMs: {
    flag: "dhan-feed-reconnect-max-ms",
    description: "longest wait between reconnection attempts of a feed (it starts at 250 ms and doubles), ms",
    defaultValue: 30_000,
    parse: integer(250, 600_000),
  },
};
