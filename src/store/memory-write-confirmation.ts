/**
 * The embedded store has no replicas: every write it acknowledged is as
 * durable as it will get, so confirmation answers at once.
 */
import type { ReplicaConfirmation, WriteConfirmation } from "../exit/ports.js";

const CONFIRMED: ReplicaConfirmation = { confirmed: true };

export class MemoryWriteConfirmation implements WriteConfirmation {
  confirm(): Promise<ReplicaConfirmation> {
    return Promise.resolve(CONFIRMED);
  }
}
