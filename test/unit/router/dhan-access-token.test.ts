/** The Dhan access token: read from its file, reloaded without a restart, its JWT expiry announced ahead. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DhanAccessToken, jwtExpiryMs } from "../../../src/router/dhan-access-token.js";

const jwt = (claims: object) =>
  `${Buffer.from('{"alg":"HS512"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2ln`;

function recordingLog() {
  const entries: { level: string; message: string; fields: object }[] = [];
  const at = (level: string) => (fields: object, message: string) => void entries.push({ level, message, fields });
  return { entries, log: { info: at("info"), warn: at("warn"), error: at("error") } };
}

describe("DhanAccessToken", () => {
  const dir = mkdtempSync(join(tmpdir(), "tradingcore-token-"));
  const file = join(dir, "token");
  const tokens: DhanAccessToken[] = [];
  afterEach(() => {
    for (const token of tokens.splice(0)) token.stop();
  });

  it("reads a JWT's expiry, and nothing from a token that is not one", () => {
    expect(jwtExpiryMs(jwt({ exp: 1_760_000_000 }))).toBe(1_760_000_000_000);
    expect(jwtExpiryMs("opaque-token")).toBeUndefined();
    expect(jwtExpiryMs(jwt({ sub: "1000000001" }))).toBeUndefined();
  });

  it("warns at load when the token expires within the warning window, and logs an error for one already expired, never the token", () => {
    const now = 1_760_000_000_000;
    const soon = jwt({ exp: (now + 30 * 60_000) / 1000 });
    const { entries, log } = recordingLog();
    tokens.push(new DhanAccessToken(soon, { log, now: () => now, warnBeforeMs: 3_600_000 }));
    expect(entries.find((entry) => entry.level === "warn")?.message).toMatch(/expires soon/);
    const gone = jwt({ exp: (now - 1_000) / 1000 });
    tokens.push(new DhanAccessToken(gone, { log, now: () => now }));
    expect(entries.find((entry) => entry.level === "error")?.message).toMatch(/has expired/);
    expect(JSON.stringify(entries)).not.toContain(soon);
    expect(JSON.stringify(entries)).not.toContain(gone);
  });

  it("reloads from its file with a new version each time, keeping the old token when the file cannot be read", () => {
    writeFileSync(file, "  token-1\n");
    const { entries, log } = recordingLog();
    const token = new DhanAccessToken("", { file, log });
    tokens.push(token);
    expect([token.current, token.version]).toEqual(["token-1", 1]);
    writeFileSync(file, "token-2\n");
    expect(token.reload("renewed")).toBe(true);
    expect([token.current, token.version]).toEqual(["token-2", 2]);
    expect(token.reload("SIGHUP")).toBe(false);
    expect(token.version).toBe(3);
    rmSync(file);
    expect(token.reload("SIGHUP")).toBe(false);
    expect([token.current, token.version]).toEqual(["token-2", 3]);
    expect(entries.some((entry) => entry.level === "error" && /could not be read/.test(entry.message))).toBe(true);
  });

  it("picks a renewed token up when its file changes, without a signal", async () => {
    writeFileSync(file, "token-1\n");
    const token = new DhanAccessToken("", { file });
    tokens.push(token);
    token.watch(20);
    // Written again on every check: a write landing before the watcher's first look would not count as a change.
    await vi.waitFor(
      () => {
        writeFileSync(file, "token-renewed\n");
        expect(token.current).toBe("token-renewed");
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(token.version).toBeGreaterThan(1);
    rmSync(dir, { recursive: true, force: true });
  });
});
