/**
 * A pass run every `intervalMs` after the previous one ended, until stopped;
 * the background loops that act without a caller (the session watchdog, the
 * time-exit scheduler) run on it. A pass that throws is logged and the next
 * one runs on time; `runOnce` during a running pass joins it.
 */
import type { ExitLog } from "./ports.js";

export class PeriodicPass<T> {
  private running: Promise<T> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    private readonly name: string,
    private readonly pass: () => Promise<T>,
    private readonly intervalMs: number,
    private readonly log: ExitLog,
  ) {}

  /** One pass now (joining the running one); rejects when the pass does. */
  runOnce(): Promise<T> {
    if (this.running) return this.running;
    const pass = this.pass().finally(() => (this.running = undefined));
    this.running = pass;
    return pass;
  }

  start(): void {
    if (this.timer || this.stopping) return;
    const schedule = () => {
      this.timer = setTimeout(async () => {
        await this.runOnce().catch((error: unknown) => this.log.error({ err: error }, `${this.name} pass failed`));
        if (!this.stopping) schedule();
      }, this.intervalMs);
      this.timer.unref();
    };
    schedule();
  }

  /** Stops scheduling and waits for the running pass. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
