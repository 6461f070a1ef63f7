/**
 * The Dhan access token, replaceable while the process runs. Dhan's tokens
 * are JWTs that last 24 hours; a deployment renews them (Dhan's web page or
 * its renew-token API) and writes the new one where tradingcore reads it.
 *
 * Read from a file when one is configured: re-read when the file changes
 * (polled with fs.watchFile, which also sees a file replaced by a rename, as
 * editors and secret managers write them) and on SIGHUP (main.ts), so a
 * renewal needs no restart and no signal, and an operator can still force
 * one. Every load, even of the same text, is a new `version`: the router
 * keeps a token the broker refused out of use until the version changes.
 *
 * When the token says when it expires (the JWT's `exp`), a warning is logged
 * `warnBeforeMs` ahead and an error at expiry; the router stops sending with
 * an expired token by itself. The token itself is never logged.
 */
import { readFileSync, unwatchFile, watchFile } from "node:fs";
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { ExitLog } from "../exit/ports.js";

export interface AccessTokenSource {
  readonly current: string;
  /** Grows with every load. */
  readonly version: number;
  /** Epoch ms at which the token expires, when it says. */
  readonly expiresAtMs: number | undefined;
}

export interface DhanAccessTokenOptions {
  /** The file holding the token (whitespace around it ignored); none: the token never changes. */
  readonly file?: string;
  readonly log?: ExitLog;
  readonly now?: () => number;
  /** How long before the token's expiry a warning is logged, ms. */
  readonly warnBeforeMs?: number;
}

export const DEFAULT_TOKEN_WARN_BEFORE_MS = 3_600_000;
/** How often the token file is checked for a change, ms. */
export const TOKEN_FILE_POLL_MS = 2_000;

export class DhanAccessToken implements AccessTokenSource {
  private token: string;
  private loads = 1;
  private expiry: number | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private watching = false;

  constructor(
    initial: string,
    private readonly options: DhanAccessTokenOptions = {},
  ) {
    this.token = options.file ? readToken(options.file) : initial;
    this.expiry = jwtExpiryMs(this.token);
    this.announce("loaded");
  }

  get current(): string {
    return this.token;
  }

  get version(): number {
    return this.loads;
  }

  get expiresAtMs(): number | undefined {
    return this.expiry;
  }

  /** Reads the file again (keeps the token when there is no file or it cannot be read); answers whether the text changed. */
  reload(why: string): boolean {
    let next = this.token;
    if (this.options.file) {
      try {
        next = readToken(this.options.file);
      } catch (error) {
        this.options.log?.error(
          { err: error, file: this.options.file },
          `Dhan access token not reloaded (${why}): the file could not be read`,
        );
        return false;
      }
    }
    const changed = next !== this.token;
    this.token = next;
    this.loads++;
    this.expiry = jwtExpiryMs(next);
    this.announce(changed ? `reloaded (${why})` : `reloaded unchanged (${why})`);
    return changed;
  }

  /** Re-reads the file whenever it changes, until `stop`. */
  watch(intervalMs = TOKEN_FILE_POLL_MS): void {
    const file = this.options.file;
    if (!file || this.watching) return;
    this.watching = true;
    watchFile(file, { interval: intervalMs, persistent: false }, (now, before) => {
      if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino) this.reload("the token file changed");
    });
  }

  stop(): void {
    if (this.options.file && this.watching) unwatchFile(this.options.file);
    this.watching = false;
    for (const timer of this.timers.splice(0)) clearTimeout(timer);
  }

  /** Logs the load with the expiry, and schedules the warning ahead of it and the error at it. */
  private announce(what: string): void {
    for (const timer of this.timers.splice(0)) clearTimeout(timer);
    const log = this.options.log;
    const now = (this.options.now ?? Date.now)();
    const expiry = this.expiry;
    const expiresAt = expiry === undefined ? undefined : new Date(expiry).toISOString();
    log?.info({ version: this.loads, expiresAt: expiresAt ?? "not stated" }, `Dhan access token ${what}`);
    if (expiry === undefined) return;
    const warnAt = expiry - (this.options.warnBeforeMs ?? DEFAULT_TOKEN_WARN_BEFORE_MS);
    const expired = () =>
      log?.error({ expiresAt }, "the Dhan access token has expired: exits answer ROUTER_UNAVAILABLE until a new one is loaded");
    const expiring = () =>
      log?.warn(
        { expiresAt, inMs: expiry - (this.options.now ?? Date.now)() },
        "the Dhan access token expires soon: renew it and write the new one to the token file (or send SIGHUP)",
      );
    if (expiry <= now) return void expired();
    if (warnAt <= now) expiring();
    else this.timers.push(unrefTimer(expiring, warnAt - now));
    this.timers.push(unrefTimer(expired, expiry - now));
  }
}

function unrefTimer(run: () => void, ms: number): NodeJS.Timeout {
  // setTimeout holds at most 2^31-1 ms (24.8 days); a later expiry is announced on the next load.
  const timer = setTimeout(run, Math.min(ms, 2_147_483_647));
  timer.unref();
  return timer;
}

function readToken(file: string): string {
  const text = readFileSync(file, "utf8").trim();
  if (text === "") throw new TradingCoreError("invalid-argument", `the Dhan access token file ${file} is empty`);
  return text;
}

/** The `exp` claim of a JWT, as epoch ms; undefined for anything that is not a JWT with a numeric `exp`. */
export function jwtExpiryMs(token: string): number | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as { exp?: unknown };
    return typeof claims.exp === "number" && Number.isFinite(claims.exp) ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
