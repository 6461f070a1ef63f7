import { ExitStatus, PriceSource } from "../../gen/tradingcore/v1/common_pb.js";
import type { Money } from "../domain/money.js";
import type { TrackerRecord } from "../domain/tracker.js";
import { isSuccessfulExit } from "../domain/exit-status.js";

/** What one exit request did; the server turns it into an ExitResult. */
export interface ExitOutcome {
  readonly status: ExitStatus;
  readonly success: boolean;
  readonly tracker?: TrackerRecord;
  /** Average fill price; undefined until the broker reports a fill. */
  readonly exitPrice?: Money | undefined;
  /** The LTP the order was referenced at, when one was known. */
  readonly referencePrice?: Money;
  /** FILL when `exitPrice` is set, else the source of `referencePrice`. */
  readonly priceSource: PriceSource;
  readonly priceAgeMs?: number;
  readonly priceStale: boolean;
  readonly correlationId: string;
  readonly exitOrderId: string;
  readonly message: string;
  /** Router calls this request made. */
  readonly attempts: number;
}

export type ExitOutcomeDetails = Partial<Omit<ExitOutcome, "status" | "success">>;

/** Builds an outcome; `success` follows from the status, never set by hand. */
export function exitOutcome(status: ExitStatus, details: ExitOutcomeDetails = {}): ExitOutcome {
  const tracker = details.tracker;
  return {
    priceSource: PriceSource.UNSPECIFIED,
    priceStale: false,
    correlationId: tracker?.exitCorrelationId ?? "",
    exitOrderId: tracker?.exitOrderId ?? "",
    message: "",
    attempts: 0,
    ...details,
    status,
    success: isSuccessfulExit(status),
  };
}
