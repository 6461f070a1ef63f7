/**
 * What the chaos suite's client processes are told to do, and what they
 * report back: one record per ExecuteExit call, with the answer as the client
 * saw it (an ExitResult, or the gRPC error of a call that got none).
 */

export interface ClientPlan {
  /** Servers to spread the calls over (`host:port`); each call picks one at random. */
  readonly addresses: readonly string[];
  readonly orderNos: readonly string[];
  /** Passes over `orderNos`, each in a fresh shuffled order. */
  readonly rounds: number;
  /** Calls this client keeps in flight at once. */
  readonly concurrency: number;
  readonly seed: number;
  /** Deadline of one call, ms. */
  readonly callTimeoutMs: number;
  /** Skip a tracker in later rounds once this client got EXITED or ALREADY_EXITED for it. */
  readonly stopWhenExited: boolean;
}

export interface CallRecord {
  readonly client: number;
  readonly orderNo: string;
  readonly address: string;
  /** Epoch ms, the client's clock (same machine as every process of the suite). */
  readonly startedAt: number;
  readonly finishedAt: number;
  /** ExitStatus name (`EXITED`, ...) when the call answered an ExitResult. */
  readonly status?: string;
  /** gRPC status code of a call that failed instead (server killed, deadline, Redis down). */
  readonly grpcCode?: number;
  readonly message: string;
  readonly correlationId?: string;
  readonly exitPrice?: string;
  readonly priceSource?: string;
  /** TrackerStatus name of the tracker in the answer. */
  readonly trackerStatus?: string;
}

/** Parent → client. */
export type ClientCommand =
  | { readonly kind: "run"; readonly id: number; readonly client: number; readonly plan: ClientPlan }
  | { readonly kind: "stop" };

/** Client → parent. */
export type ClientReply =
  | { readonly kind: "ready" }
  | { readonly kind: "done"; readonly id: number; readonly calls: readonly CallRecord[] }
  | { readonly kind: "failed"; readonly id: number; readonly message: string };

/** Statuses that say the position is closed. */
export const SETTLED_EXIT_STATUSES: ReadonlySet<string> = new Set(["EXITED", "ALREADY_EXITED"]);
