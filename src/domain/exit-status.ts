import { ExitStatus } from "../../gen/tradingcore/v1/common_pb.js";

/** Success means the position is closed: EXITED or ALREADY_EXITED, nothing else. */
export function isSuccessfulExit(status: ExitStatus): boolean {
  return status === ExitStatus.EXITED || status === ExitStatus.ALREADY_EXITED;
}
