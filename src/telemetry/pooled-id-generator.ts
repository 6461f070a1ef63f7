/**
 * Trace and span ids cut from a pool of random hex: one `randomBytes` call
 * and one hex encoding per 4 KiB instead of a buffer write and a hex encoding
 * per id (the SDK's generator, a visible share of a traced exit's CPU at ten
 * spans an exit). The bytes come from the OS's CSPRNG, so ids are at least as
 * unpredictable as the SDK's `Math.random` ones.
 */
import { randomBytes } from "node:crypto";
import type { IdGenerator } from "@opentelemetry/sdk-trace-base";

const POOL_BYTES = 4096;
const INVALID_TRACE_ID = "0".repeat(32);
const INVALID_SPAN_ID = "0".repeat(16);

export class PooledIdGenerator implements IdGenerator {
  private pool = "";
  private next = 0;

  generateTraceId(): string {
    return this.take(32, INVALID_TRACE_ID);
  }

  generateSpanId(): string {
    return this.take(16, INVALID_SPAN_ID);
  }

  private take(chars: number, invalid: string): string {
    for (;;) {
      if (this.next + chars > this.pool.length) {
        this.pool = randomBytes(POOL_BYTES).toString("hex");
        this.next = 0;
      }
      const id = this.pool.slice(this.next, this.next + chars);
      this.next += chars;
      // An all-zero id is invalid in W3C trace context; one in 2^64 draws, drawn again.
      if (id !== invalid) return id;
    }
  }
}
