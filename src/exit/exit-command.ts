/**
 * An exit request and its validation (seed improvement 4). Validation is pure
 * and names the offending field, so INVALID_REQUEST always says what to fix.
 */
import { ExitReasonCode } from "../../gen/tradingcore/v1/common_pb.js";
import type { TrackerRecord } from "../domain/tracker.js";
import type { ExitTrigger } from "../domain/exit-plan.js";

export interface ExitCommand {
  readonly orderNo: string;
  /** Free text for the audit trail. */
  readonly reason: string;
  readonly reasonCode: ExitReasonCode;
  /** Epoch ms by which the caller wants an answer (its call deadline); the fill wait ends before it. */
  readonly answerByMs?: number;
  /**
   * For exits the sidecar starts itself (a due time, a lapsed session): why
   * the ACTIVE tracker no longer calls for this exit, or undefined when it
   * still does. Checked on the tracker as read under the exit lock, so a plan
   * or registration changed before the exit took the lock sends nothing.
   */
  readonly unwantedBecause?: (tracker: TrackerRecord) => string | undefined;
  /**
   * Set when a rule of the tracker's exit plan fired: recorded on the intent.
   * The exit goes ahead only while the tracker's plan is still the version
   * the trigger was evaluated under (checked under the exit lock).
   */
  readonly trigger?: ExitTrigger;
}

export const MAX_ORDER_NO_LENGTH = 64;
export const MAX_REASON_LENGTH = 256;
const ORDER_NO_PATTERN = /^[A-Za-z0-9._:-]+$/;

/** The problem with an order_no, or undefined when it is acceptable. Shared by every RPC that takes one. */
export function orderNoProblem(orderNo: string, field = "order_no"): string | undefined {
  if (orderNo.length === 0) return `${field} is required`;
  if (orderNo.length > MAX_ORDER_NO_LENGTH) return `${field} is longer than ${MAX_ORDER_NO_LENGTH} characters`;
  if (!ORDER_NO_PATTERN.test(orderNo)) return `${field} may only contain letters, digits and . _ : -`;
  return undefined;
}

/** The first problem with the command, or undefined when it may proceed. */
export function exitCommandProblem(command: ExitCommand): string | undefined {
  const orderNo = orderNoProblem(command.orderNo);
  if (orderNo) return orderNo;
  if (command.reason.trim().length === 0) return "reason is required and must not be blank";
  if (command.reason.length > MAX_REASON_LENGTH) return `reason is longer than ${MAX_REASON_LENGTH} characters`;
  if (!(command.reasonCode in ExitReasonCode)) return `reason_code ${command.reasonCode} is not a known ExitReasonCode`;
  return undefined;
}
