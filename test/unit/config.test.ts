import { describe, expect, it } from "vitest";
import { ConfigError, defaultConfig, isLoopbackHost, loadConfig } from "../../src/config.js";

describe("loadConfig", () => {
  it("answers the embedded defaults when nothing is set", () => {
    expect(loadConfig([], {})).toEqual(defaultConfig());
    expect(defaultConfig()).toMatchObject({ host: "127.0.0.1", port: 50051, router: "paper" });
  });

  it("reads TRADINGCORE_* variables and lets a flag win over its variable", () => {
    const config = loadConfig(["--port", "7001"], { TRADINGCORE_PORT: "7000", TRADINGCORE_LOCK_TTL_MS: "2500" });
    expect(config.port).toBe(7001);
    expect(config.lockTtlMs).toBe(2500);
  });

  it.each([
    [["--port", "abc"], {}, /--port: "abc" is not a whole number/],
    [["--port", "70000"], {}, /--port: 70000 is outside 0..65535/],
    [[], { TRADINGCORE_ROUTER: "dhan2" }, /TRADINGCORE_ROUTER: "dhan2" is not one of paper, dhan, none/],
    [[], { TRADINGCORE_PAPER_REJECT_RATE: "1.5" }, /TRADINGCORE_PAPER_REJECT_RATE: "1.5" is not a rate/],
    [["--no-such-flag", "1"], {}, /no-such-flag/],
    [["--max-tick-instruments", "0"], {}, /--max-tick-instruments: 0 is outside 1..10000000/],
    [[], { TRADINGCORE_KEEPALIVE_TIMEOUT_MS: "soon" }, /TRADINGCORE_KEEPALIVE_TIMEOUT_MS: "soon" is not a whole number/],
    [
      [],
      { TRADINGCORE_MAX_PARKED_ORDER_UPDATE_BYTES: "1000" },
      /TRADINGCORE_MAX_PARKED_ORDER_UPDATE_BYTES: 1000 is outside 65536\.\.1073741824/,
    ],
  ])("refuses %j %j with a message naming the setting", (argv, env, message) => {
    expect(() => loadConfig(argv, env)).toThrow(ConfigError);
    expect(() => loadConfig(argv, env)).toThrow(message);
  });
});

describe("loadConfig for the listen address", () => {
  it.each([
    ["[::1]", "::1"],
    ["::1", "::1"],
    ["127.0.0.1", "127.0.0.1"],
    ["localhost", "localhost"],
    ["[0:0:0:0:0:0:0:1]", "0:0:0:0:0:0:0:1"],
  ])("accepts %s and keeps it as %s", (given, kept) => {
    expect(loadConfig(["--host", given], {}).host).toBe(kept);
  });

  it.each([
    ["[::1", /is not an IPv6 address/],
    ["[127.0.0.1]", /is not an IPv6 address in brackets/],
    ["127.0.0.1:50051", /give the port with --port/],
    ["host name", /is not a host name or an IP address/],
    ["999.1.1.1", /is not a host name or an IP address/],
    ["", undefined],
  ])("refuses %j naming --host", (given, message) => {
    if (message === undefined) return expect(loadConfig(["--host", given], {}).host).toBe("127.0.0.1");
    expect(() => loadConfig(["--host", given], {})).toThrow(message);
    expect(() => loadConfig(["--host", given], {})).toThrow(/^--host: /);
  });
});

describe("loadConfig for fills, send deadlines and the paper market", () => {
  it("reads the fill wait, the send deadline margin, the duplicate window, the paper faults and seed, and the LTP hop budgets", () => {
    const config = loadConfig(
      [
        "--fill-wait-ms",
        "1500",
        "--send-deadline-margin-ms",
        "3000",
        "--duplicate-watch-ms",
        "60000",
        "--overdue-order-after-ms",
        "90000",
        "--paper-seed",
        "7",
      ],
      { TRADINGCORE_PAPER_PARTIAL_FILL_RATE: "0.25", TRADINGCORE_PAPER_LATE_MS: "500", TRADINGCORE_LTP_REDIS_HOP_TIMEOUT_MS: "400" },
    );
    expect(config).toMatchObject({
      fillWaitMs: 1500,
      sendDeadlineMarginMs: 3000,
      duplicateWatchMs: 60000,
      overdueOrderAfterMs: 90000,
      paperSeed: 7,
      paperPartialFillRate: 0.25,
      paperLateMs: 500,
      ltpRedisHopTimeoutMs: 400,
    });
    expect(defaultConfig()).toMatchObject({
      fillWaitMs: 3000,
      fillPollIntervalMs: 250,
      ltpRedisHopTimeoutMs: 250,
      ltpMemoryHopTimeoutMs: 50,
    });
  });

  it.each([
    [["--fill-wait-ms", "-1"], /--fill-wait-ms/],
    [["--paper-late-fill-rate", "2"], /--paper-late-fill-rate: "2" is not a rate/],
    [["--ltp-redis-hop-timeout-ms", "0"], /--ltp-redis-hop-timeout-ms/],
  ])("refuses %j naming the setting", (argv, message) => {
    expect(() => loadConfig(argv, {})).toThrow(message);
  });
});

describe("loadConfig for the Dhan router", () => {
  it("needs a client id and an access token", () => {
    expect(() => loadConfig(["--router", "dhan"], {})).toThrow(
      /TRADINGCORE_DHAN_CLIENT_ID and TRADINGCORE_DHAN_ACCESS_TOKEN \(or TRADINGCORE_DHAN_ACCESS_TOKEN_FILE\)/,
    );
    const config = loadConfig(["--router", "dhan"], { TRADINGCORE_DHAN_CLIENT_ID: "1", TRADINGCORE_DHAN_ACCESS_TOKEN: "t" });
    expect(config).toMatchObject({ router: "dhan", dhanBaseUrl: "https://api.dhan.co", dhanProductType: "INTRADAY" });
  });

  it("takes a token file instead of the token, and reads the account's rate limits, freeze quantities and token warning", () => {
    const config = loadConfig(
      [
        "--router",
        "dhan",
        "--dhan-access-token-file",
        "/run/secrets/dhan-token",
        "--dhan-order-rate-limits",
        "10/s,250/m",
        "--dhan-freeze-quantities",
        "NSE_FNO=1800,NSE_FNO:35001=900",
      ],
      { TRADINGCORE_DHAN_CLIENT_ID: "1", TRADINGCORE_DHAN_TOKEN_WARN_BEFORE_MS: "600000" },
    );
    expect(config).toMatchObject({
      dhanAccessTokenFile: "/run/secrets/dhan-token",
      dhanOrderRateLimits: "10/s,250/m",
      dhanFreezeQuantities: "NSE_FNO=1800,NSE_FNO:35001=900",
      dhanTokenWarnBeforeMs: 600_000,
    });
    expect(defaultConfig()).toMatchObject({ dhanOrderRateLimits: "10/s,250/m,1000/h,7000/d", dhanFreezeQuantities: "" });
  });

  it.each([
    [["--dhan-product-type", "BO"], /--dhan-product-type: "BO" is not one of INTRADAY, MARGIN, CNC, MTF/],
    [["--dhan-order-rate-limits", "250/week"], /--dhan-order-rate-limits: rate window "250\/week"/],
    [["--dhan-freeze-quantities", "NFO=1800"], /--dhan-freeze-quantities: freeze limit "NFO=1800"/],
  ])("refuses %j naming the setting", (argv, message) => {
    expect(() => loadConfig(argv, {})).toThrow(message);
  });

  it("refuses a base URL that is not http(s)", () => {
    expect(() => loadConfig(["--dhan-base-url", "ftp://x"], {})).toThrow(/--dhan-base-url: "ftp:\/\/x" is not an http\(s\) URL/);
  });
});

describe("loadConfig for the audit trail", () => {
  it("keeps 100,000 events with no age bound, on Redis when a Redis URL is set", () => {
    expect(loadConfig([], {})).toMatchObject({ auditTrail: "auto", auditMaxEvents: 100_000, auditMaxAgeMs: 0 });
    const config = loadConfig(["--audit-max-events", "5000000", "--audit-max-age-ms", "604800000"], { TRADINGCORE_AUDIT_TRAIL: "memory" });
    expect(config).toMatchObject({ auditTrail: "memory", auditMaxEvents: 5_000_000, auditMaxAgeMs: 604_800_000 });
  });

  it("refuses a Redis trail without the store's Redis, and a trail that keeps no event", () => {
    expect(() => loadConfig(["--audit-trail", "redis"], {})).toThrow(
      /TRADINGCORE_AUDIT_TRAIL=redis needs TRADINGCORE_REDIS_URL or TRADINGCORE_REDIS_SENTINELS/,
    );
    expect(loadConfig(["--audit-trail", "redis"], { REDIS_URL: "redis://127.0.0.1:6379" }).auditTrail).toBe("redis");
    const sentinels = {
      TRADINGCORE_REDIS_SENTINELS: "redis://127.0.0.1:26379,redis://127.0.0.1:26380",
      TRADINGCORE_REDIS_SENTINEL_MASTER: "tc-store",
      TRADINGCORE_REDIS_LOCK_URLS: "redis://127.0.0.1:6390",
    };
    expect(loadConfig(["--audit-trail", "redis"], sentinels).auditTrail).toBe("redis");
    expect(() => loadConfig(["--audit-max-events", "0"], {})).toThrow(/--audit-max-events/);
    expect(() => loadConfig(["--audit-trail", "kafka"], {})).toThrow(/--audit-trail/);
  });
});

describe("loadConfig for exposure beyond loopback", () => {
  it("refuses a non-loopback host without a token, naming the settings that fix it", () => {
    expect(() => loadConfig(["--host", "0.0.0.0"], {})).toThrow(
      /beyond loopback.*TRADINGCORE_AUTH_TOKEN.*TRADINGCORE_ALLOW_REMOTE_WITHOUT_AUTH=true/,
    );
  });

  it("accepts a non-loopback host with a token, or with the explicit opt-out", () => {
    expect(loadConfig(["--host", "0.0.0.0"], { TRADINGCORE_AUTH_TOKEN: "t" }).host).toBe("0.0.0.0");
    expect(loadConfig(["--host", "::", "--allow-remote-without-auth", "true"], {}).allowRemoteWithoutAuth).toBe(true);
  });

  it.each(["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"])("treats %s as loopback", (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each(["0.0.0.0", "::", "10.0.0.1", "192.168.1.2", "example.com", "128.0.0.1"])("treats %s as beyond loopback", (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });

  it("refuses a TLS certificate without its key, and mTLS without a certificate", () => {
    expect(() => loadConfig(["--tls-cert-file", "c.pem"], {})).toThrow(
      /TRADINGCORE_TLS_CERT_FILE and TRADINGCORE_TLS_KEY_FILE go together/,
    );
    expect(() => loadConfig(["--tls-client-ca-file", "ca.pem"], {})).toThrow(/mTLS/);
  });
});

describe("loadConfig for the never-placed grace period", () => {
  it("refuses a grace that an exit's own router calls can outlast", () => {
    expect(() => loadConfig(["--router-timeout-ms", "5000", "--unknown-order-grace-ms", "0"], {})).toThrow(ConfigError);
    expect(() => loadConfig(["--router-timeout-ms", "60000"], {})).toThrow(
      /TRADINGCORE_UNKNOWN_ORDER_GRACE_MS \(30000\) must be above 4 × TRADINGCORE_ROUTER_TIMEOUT_MS \(60000\)/,
    );
  });

  it("accepts a grace longer than every router call an exit may make", () => {
    expect(loadConfig(["--router-timeout-ms", "60000", "--unknown-order-grace-ms", "300000"], {})).toMatchObject({
      routerTimeoutMs: 60_000,
      unknownOrderGraceMs: 300_000,
    });
  });
});

describe("loadConfig for a store behind Redis Sentinel", () => {
  const sentinels = "redis://127.0.0.1:26379,redis://127.0.0.1:26380,redis://127.0.0.1:26381";
  const locks = "redis://10.0.0.1:6379,redis://10.0.0.2:6379,redis://10.0.0.3:6379";

  it("reads the Sentinels, the master name, the nodes' credentials and TLS, and the replicas to confirm", () => {
    const config = loadConfig([], {
      TRADINGCORE_REDIS_SENTINELS: sentinels,
      TRADINGCORE_REDIS_SENTINEL_MASTER: "tc-store",
      TRADINGCORE_REDIS_SENTINEL_NODE_USERNAME: "tradingcore",
      TRADINGCORE_REDIS_SENTINEL_NODE_PASSWORD: "s3cret",
      TRADINGCORE_REDIS_SENTINEL_NODE_TLS: "true",
      TRADINGCORE_REDIS_LOCK_URLS: locks,
      TRADINGCORE_REDIS_CONFIRM_REPLICAS: "1",
      TRADINGCORE_REDIS_CONFIRM_TIMEOUT_MS: "250",
    });
    expect(config).toMatchObject({
      redisSentinels: sentinels.split(","),
      redisSentinelMaster: "tc-store",
      redisSentinelNodeUsername: "tradingcore",
      redisSentinelNodePassword: "s3cret",
      redisSentinelNodeTls: true,
      redisConfirmReplicas: 1,
      redisConfirmTimeoutMs: 250,
    });
  });

  it("confirms with no replica by default: a single node behaves as before", () => {
    expect(defaultConfig()).toMatchObject({ redisConfirmReplicas: 0, redisSentinels: [], redisSentinelMaster: "" });
  });

  it.each([
    [{ TRADINGCORE_REDIS_SENTINELS: sentinels, TRADINGCORE_REDIS_LOCK_URLS: locks }, /needs TRADINGCORE_REDIS_SENTINEL_MASTER/],
    [{ TRADINGCORE_REDIS_SENTINELS: sentinels, TRADINGCORE_REDIS_SENTINEL_MASTER: "m" }, /needs TRADINGCORE_REDIS_LOCK_URLS/],
    [
      {
        TRADINGCORE_REDIS_SENTINELS: sentinels,
        TRADINGCORE_REDIS_SENTINEL_MASTER: "m",
        TRADINGCORE_REDIS_LOCK_URLS: locks,
        REDIS_URL: "redis://x:6379",
      },
      /both name the store's Redis/,
    ],
    [
      {
        TRADINGCORE_REDIS_SENTINELS: "redis://a:26379,rediss://b:26379",
        TRADINGCORE_REDIS_SENTINEL_MASTER: "m",
        TRADINGCORE_REDIS_LOCK_URLS: locks,
      },
      /same scheme and credentials/,
    ],
    [{ TRADINGCORE_REDIS_SENTINELS: "sentinel://a:26379" }, /TRADINGCORE_REDIS_SENTINELS: URL 1: .* is not a redis/],
    [{ TRADINGCORE_REDIS_CONFIRM_REPLICAS: "1" }, /TRADINGCORE_REDIS_CONFIRM_REPLICAS needs a Redis store/],
    [
      { REDIS_URL: "redis://x:6379", TRADINGCORE_REDIS_CONFIRM_REPLICAS: "1", TRADINGCORE_REDIS_CONFIRM_TIMEOUT_MS: "2000" },
      /TRADINGCORE_REDIS_CONFIRM_TIMEOUT_MS \(2000\) must be below TRADINGCORE_REDIS_COMMAND_TIMEOUT_MS \(2000\)/,
    ],
    [
      {
        REDIS_URL: "redis://x:6379",
        TRADINGCORE_REDIS_CONFIRM_REPLICAS: "1",
        TRADINGCORE_REDIS_CONFIRM_TIMEOUT_MS: "5000",
        TRADINGCORE_REDIS_COMMAND_TIMEOUT_MS: "10000",
      },
      /TRADINGCORE_REDIS_CONFIRM_TIMEOUT_MS \(5000\) must be below TRADINGCORE_ROUTER_TIMEOUT_MS \(5000\)/,
    ],
  ])("refuses %j, naming the setting", (env, message) => {
    expect(() => loadConfig([], env)).toThrow(ConfigError);
    expect(() => loadConfig([], env)).toThrow(message);
  });
});

describe("loadConfig for the scheduler and the dead-man switch", () => {
  it("defaults to a square-off at 15:15 Asia/Kolkata for NSE and BSE, and none for indices", () => {
    const config = loadConfig([], {});
    expect(config.sessionEndDefaults).toContain("NSE_FNO=15:15@Asia/Kolkata");
    expect(config.sessionEndDefaults.some((entry) => entry.startsWith("IDX_I="))).toBe(false);
    expect(config).toMatchObject({
      schedulerIntervalMs: 1_000,
      schedulerRetryMs: 30_000,
      sessionCheckIntervalMs: 1_000,
      sessionLapseRetryMs: 30_000,
    });
  });

  it("reads the session-end defaults, and none as no default at all", () => {
    expect(
      loadConfig(["--session-end-defaults", "NSE_FNO=15:10@Asia/Kolkata, MCX_COMM=23:00@Asia/Kolkata"], {}).sessionEndDefaults,
    ).toEqual(["NSE_FNO=15:10@Asia/Kolkata", "MCX_COMM=23:00@Asia/Kolkata"]);
    expect(loadConfig([], { TRADINGCORE_SESSION_END_DEFAULTS: "none" }).sessionEndDefaults).toEqual([]);
  });

  it.each([
    ["NSE_FNO=15:15", /is not SEGMENT=HH:MM@Time\/Zone/],
    ["NSE_FOO=15:15@Asia/Kolkata", /"NSE_FOO" is not a segment/],
    ["NSE_FNO=24:00@Asia/Kolkata", /"24:00" is not HH:MM/],
    ["NSE_FNO=15:15@Asia/Bombay_Nowhere", /not a known IANA time zone/],
    ["NSE_FNO=15:15@Asia/Kolkata,NSE_FNO=15:10@Asia/Kolkata", /NSE_FNO is named twice/],
  ])("refuses --session-end-defaults %s naming the setting", (value, message) => {
    expect(() => loadConfig(["--session-end-defaults", value], {})).toThrow(ConfigError);
    expect(() => loadConfig(["--session-end-defaults", value], {})).toThrow(message);
    expect(() => loadConfig(["--session-end-defaults", value], {})).toThrow(/--session-end-defaults/);
  });

  it("refuses a lapse check interval outside its bounds", () => {
    expect(() => loadConfig(["--session-check-interval-ms", "5"], {})).toThrow(/--session-check-interval-ms: 5 is outside 10\.\.60000/);
  });
});
