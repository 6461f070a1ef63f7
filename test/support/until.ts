/**
 * Waiting in tests for what a real process, or a timer of its own, does in
 * its own time. Polls; the bound only ends a test that would otherwise hang,
 * so it is generous and never an assertion about speed.
 */

export interface UntilOptions {
  /** How long before giving up, ms. */
  readonly timeoutMs?: number;
  /** Pause between reads, ms. */
  readonly pollMs?: number;
}

/** Reads until `done` accepts what `read` answers, and answers that; fails naming `what`. */
export async function until<T>(
  read: () => Promise<T> | T,
  done: (value: T) => boolean,
  what: string,
  { timeoutMs = 30_000, pollMs = 20 }: UntilOptions = {},
): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Until `check` answers true; fails naming `what`. */
export async function untilTrue(check: () => Promise<boolean> | boolean, what: string, options?: UntilOptions): Promise<void> {
  await until(check, (value) => value, what, options);
}
