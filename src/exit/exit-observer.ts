/**
 * Where the exit engine reports each exit's start and outcome, for metrics
 * (telemetry/ implements it). Optional: the engine runs the same without it.
 */
import type { ExitOutcome } from "./exit-outcome.js";

export interface ExitObserver {
  /**
   * An exit (`execute`) or an intent resolution (`resolve`) starts; the
   * returned function is called exactly once when it ends, with its outcome,
   * or undefined when it threw.
   */
  exitStarted(path: "execute" | "resolve"): (outcome: ExitOutcome | undefined) => void;
}

const done = () => {};

export const NO_EXIT_OBSERVER: ExitObserver = { exitStarted: () => done };
