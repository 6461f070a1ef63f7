/**
 * The embedded exit lock: the same contract as Redlock inside one process.
 * Leases expire after their TTL unless extended; an owned lease is extended
 * automatically every TTL/3 until released, so only a stalled event loop can
 * lose it (and then its signal fires). Fencing tokens grow per resource.
 */
import { randomUUID } from "node:crypto";
import type { ExitLock, LockAcquisition, LockLease, ReleaseStatus } from "../exit/ports.js";

interface Holder {
  readonly owner: string;
  expiresAt: number;
  readonly extender: NodeJS.Timeout;
  /** Set when the lease is lost. */
  lostReason?: Error;
  /** Built the first time the lease's signal is read: most exits never read it. */
  controller?: AbortController;
}

interface InProcessLease extends LockLease {
  readonly owner: string;
}

export class InProcessLock implements ExitLock {
  private readonly holders = new Map<string, Holder>();
  private readonly fencing = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  async acquire(resource: string, ttlMs: number): Promise<LockAcquisition> {
    const held = this.holders.get(resource);
    if (held && held.expiresAt > this.now()) return { kind: "busy", attempts: 1 };
    if (held) this.drop(resource, held, "the lease expired and was taken over");

    const owner = randomUUID();
    const fencingToken = (this.fencing.get(resource) ?? 0) + 1;
    this.fencing.set(resource, fencingToken);
    const extender = setInterval(() => this.extend(resource, owner, ttlMs), Math.max(1, Math.floor(ttlMs / 3)));
    extender.unref();
    const holder: Holder = { owner, expiresAt: this.now() + ttlMs, extender };
    this.holders.set(resource, holder);
    const dropIfExpired = () => this.dropIfExpired(resource, owner);
    const lease: InProcessLease = {
      resource,
      owner,
      fencingToken,
      attempts: 1,
      // A lease past its TTL reads as lost even before the extender has noticed (a stalled event loop).
      get lost() {
        dropIfExpired();
        return holder.lostReason !== undefined;
      },
      get validUntilMs() {
        return holder.expiresAt;
      },
      get signal() {
        dropIfExpired();
        if (!holder.controller) {
          holder.controller = new AbortController();
          if (holder.lostReason) holder.controller.abort(holder.lostReason);
        }
        return holder.controller.signal;
      },
    };
    return { kind: "acquired", lease };
  }

  async release(lease: LockLease): Promise<ReleaseStatus> {
    const held = this.holders.get(lease.resource);
    if (!held || held.expiresAt <= this.now()) {
      if (held) this.drop(lease.resource, held, "the lease expired");
      return "not-held";
    }
    if (held.owner !== (lease as InProcessLease).owner) return "held-by-other";
    clearInterval(held.extender);
    this.holders.delete(lease.resource);
    return "released";
  }

  private extend(resource: string, owner: string, ttlMs: number): void {
    const held = this.holders.get(resource);
    if (!held || held.owner !== owner) return;
    if (held.expiresAt <= this.now()) {
      this.drop(resource, held, "the lease expired before it could be extended");
      return;
    }
    held.expiresAt = this.now() + ttlMs;
  }

  private dropIfExpired(resource: string, owner: string): void {
    const held = this.holders.get(resource);
    if (held && held.owner === owner && held.expiresAt <= this.now())
      this.drop(resource, held, "the lease expired before it could be extended");
  }

  private drop(resource: string, held: Holder, why: string): void {
    clearInterval(held.extender);
    held.lostReason ??= new Error(`exit lock ${resource} lost: ${why}`);
    held.controller?.abort(held.lostReason);
    if (this.holders.get(resource) === held) this.holders.delete(resource);
  }
}
