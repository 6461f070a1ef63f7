import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { Health, HealthCheckResponseSchema } from "../../../gen/grpc/health/v1/health_pb.js";
import { excerpt } from "../../domain/text-excerpt.js";
import { TradingCoreError } from "../../domain/trading-core-error.js";
import type { HealthState, ServingStatus } from "./health-state.js";

/** grpc.health.v1: Check answers NOT_FOUND for a service this server does not have, as the protocol asks. */
export function healthServiceHandlers(health: HealthState): ServiceImpl<typeof Health> {
  return {
    async check(request) {
      const status = health.statusOf(request.service);
      if (status === undefined) throw new TradingCoreError("not-found", `unknown service ${excerpt(request.service, 128)}`);
      return create(HealthCheckResponseSchema, { status });
    },

    async *watch(request, context) {
      let latest = health.statusOf(request.service);
      let wake: (() => void) | undefined;
      const stop = health.watch(request.service, (status: ServingStatus) => {
        latest = status;
        wake?.();
      });
      // One abort listener for the whole stream, not one per status change.
      const onAbort = () => wake?.();
      context.signal.addEventListener("abort", onAbort, { once: true });
      try {
        let sent: ServingStatus | undefined;
        while (!context.signal.aborted) {
          const status = latest ?? 3; // SERVICE_UNKNOWN
          if (status !== sent) {
            sent = status;
            yield create(HealthCheckResponseSchema, { status });
          }
          if (context.signal.aborted) break;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      } finally {
        context.signal.removeEventListener("abort", onAbort);
        stop();
      }
    },
  };
}
