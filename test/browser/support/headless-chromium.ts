/**
 * Debian's chromium, headless, driven by playwright-core: a fresh profile in a
 * temporary directory each launch, nothing fetched from the network by the
 * browser itself (no component updates, sync or QUIC), loopback only.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { chromium, type BrowserContext } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
/** Why the browser tests cannot run here, or undefined when they can. */
export const chromiumAbsent = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (bash test/setup.sh installs it)`;

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export interface Chromium {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Chromium> {
  const profile = await mkdtemp(join(tmpdir(), "tc-chromium-"));
  // launchPersistentContext passes the profile as --user-data-dir: a fresh one every launch.
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
