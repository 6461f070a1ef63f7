/**
 * Serving status per service for grpc.health.v1: NOT_SERVING while start-up
 * recovery runs and during shutdown, SERVING in between. "" is the server.
 */
import { HealthCheckResponse_ServingStatus as ServingStatus } from "../../../gen/grpc/health/v1/health_pb.js";

export type HealthListener = (status: ServingStatus) => void;

export class HealthState {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly listeners = new Map<string, Set<HealthListener>>();

  constructor(services: readonly string[]) {
    for (const service of ["", ...services]) this.statuses.set(service, ServingStatus.NOT_SERVING);
  }

  /** The status of a service, or undefined when the server does not have it. */
  statusOf(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Sets every service at once. */
  setAll(status: ServingStatus): void {
    for (const service of this.statuses.keys()) {
      if (this.statuses.get(service) === status) continue;
      this.statuses.set(service, status);
      for (const listener of this.listeners.get(service) ?? []) listener(status);
    }
  }

  watch(service: string, listener: HealthListener): () => void {
    let set = this.listeners.get(service);
    if (!set) this.listeners.set(service, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }
}

export { ServingStatus };
