/**
 * Redlock over 1..N independent Redis masters, as the Redis documentation
 * describes it, with fencing tokens and automatic extension.
 *
 * Guarantees (under the algorithm's timing assumptions: bounded clock drift,
 * node timeouts small against the TTL):
 * - At most one lease of a resource is valid at any time: a lease needs SET NX
 *   on a quorum (N/2+1) and is valid for TTL − elapsed − drift from the start
 *   of the attempt; a failed attempt deletes its value wherever it may have
 *   landed.
 * - Fencing tokens grow strictly from one holder to the next. Every node that
 *   grants the lock increments its fence counter in the same script (a new
 *   counter starts at a clock in µs that every node of the round agrees on,
 *   see redlock-scripts.ts); the token
 *   is the highest counter among them. It must also be stored on a quorum while
 *   the lock is held there, so the next holder's quorum (which overlaps it)
 *   counts past it: when fewer than a quorum answered that highest value, it is
 *   written to the lagging nodes before the lease is handed out. (The plain
 *   max of per-node INCRs is not enough: two quorums can disagree on which
 *   node is ahead.) In the steady state, and on the first acquire of a
 *   resource, all nodes agree and acquiring takes one round trip. A round
 *   whose quorum agrees on a counter it just started waits for the other
 *   nodes too (up to the node timeout), so one whose counter is ahead is
 *   never passed over.
 * - Release is owner-only: a node deletes the key only when it holds the
 *   lease's random value.
 * - A busy resource is a status ("busy"), no quorum of answering nodes is
 *   "unavailable"; acquire never throws for a node outage.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { TradingCoreError } from "../domain/trading-core-error.js";
import type { ExitLock, ExitLog, LockAcquisition, LockLease, ReleaseStatus } from "../exit/ports.js";
import type { RedisLockClient } from "./redis-lock-client.js";
import { RedlockLease } from "./redlock-lease.js";
import { fenceKeyOf } from "./redlock-scripts.js";
import { DEFAULT_REDLOCK_SETTINGS, driftMs, type RedlockSettings } from "./redlock-settings.js";

/** A node's answer: the script's integer, or undefined when it failed or did not answer in time. */
type NodeAnswer = number | undefined;

/**
 * How far ahead of this process's clock a new fence counter is proposed, µs:
 * more than the clock offset between this process and any lock node, so the
 * proposal, not a node's own clock, starts the counter on every node and they
 * agree (see ACQUIRE in redlock-scripts.ts).
 */
const FENCE_PROPOSAL_MARGIN_US = 10_000_000;

type Round =
  | { readonly kind: "acquired"; readonly value: string; readonly token: number; readonly validUntil: number }
  | { readonly kind: "failed"; readonly busy: number; readonly answered: number };

export class Redlock implements ExitLock {
  /** Nodes that must agree: N/2 + 1. */
  readonly quorum: number;
  private readonly settings: RedlockSettings;

  constructor(
    private readonly nodes: readonly RedisLockClient[],
    settings: Partial<RedlockSettings> = {},
    private readonly log?: ExitLog,
    private readonly random: () => number = Math.random,
  ) {
    if (nodes.length === 0) throw new TradingCoreError("invalid-argument", "Redlock needs at least one Redis node");
    this.quorum = Math.floor(nodes.length / 2) + 1;
    this.settings = { ...DEFAULT_REDLOCK_SETTINGS, ...settings };
  }

  async acquire(name: string, ttlMs: number): Promise<LockAcquisition> {
    const resource = this.settings.keyPrefix + name;
    if (!Number.isInteger(ttlMs) || ttlMs <= 0)
      throw new TradingCoreError("invalid-argument", `lock TTL must be a positive integer of ms, got ${ttlMs}`);
    let answered = 0;
    for (let attempt = 1; attempt <= this.settings.attempts; attempt++) {
      const round = await this.tryOnce(resource, ttlMs);
      if (round.kind === "acquired") return { kind: "acquired", lease: this.leaseOf(resource, ttlMs, round, attempt) };
      if (round.busy >= this.quorum) return { kind: "busy", attempts: attempt };
      answered = round.answered;
      if (attempt < this.settings.attempts) await sleep(this.settings.retryDelayMs + this.random() * this.settings.retryJitterMs);
    }
    if (answered < this.quorum) {
      const message = `${answered} of ${this.nodes.length} lock nodes answered, ${this.quorum} needed`;
      return { kind: "unavailable", attempts: this.settings.attempts, message };
    }
    return { kind: "busy", attempts: this.settings.attempts };
  }

  async release(lease: LockLease): Promise<ReleaseStatus> {
    if (!(lease instanceof RedlockLease)) throw new TradingCoreError("invalid-argument", "the lease was not issued by this Redlock");
    lease.end();
    const answers = await this.askAll(
      this.nodes,
      (node) => node.redlockRelease(lease.resource, lease.value),
      (sofar) => count(sofar, 1) >= this.quorum,
    );
    const released = count(answers, 1);
    const heldByOther = count(answers, -1);
    if (heldByOther >= this.quorum) return "held-by-other";
    if (released > 0) return "released";
    if (heldByOther > 0) return "held-by-other";
    if (answers.some((answer) => answer !== undefined)) return "not-held";
    throw new TradingCoreError("unavailable", `no lock node answered the release of ${lease.resource}; it expires by its TTL`);
  }

  private async tryOnce(resource: string, ttlMs: number): Promise<Round> {
    const value = randomUUID();
    const fenceKey = fenceKeyOf(resource);
    const proposedFence = Date.now() * 1000 + FENCE_PROPOSAL_MARGIN_US;
    const started = performance.now();
    const fences = await this.askAll(
      this.nodes,
      (node) => node.redlockAcquire(resource, fenceKey, value, ttlMs, proposedFence, this.settings.fenceIdleTtlMs),
      (sofar) => {
        if (count(sofar, -1) >= this.quorum) return true;
        // Counters that started at our proposal agree by construction, and a node not heard from yet may be
        // ahead of them (its counter survived where theirs did not): such a round waits for every node.
        const top = highest(sofar);
        return top !== proposedFence && count(sofar, top) >= this.quorum;
      },
    );
    const locked = fences.filter((fence) => fence !== undefined && fence > 0).length;
    const answered = fences.filter((fence) => fence !== undefined).length;
    if (locked >= this.quorum) {
      const token = highest(fences);
      const published = await this.publishToken(resource, value, ttlMs, token, fences);
      const validUntil = started + ttlMs - driftMs(this.settings, ttlMs);
      if (published && performance.now() < validUntil) return { kind: "acquired", value, token, validUntil };
    }
    // Unlock everywhere a SET may have landed, including nodes that failed to answer in time.
    if (locked > 0 || answered < this.nodes.length) {
      await this.askAll(this.nodes, (node) => node.redlockRelease(resource, value));
    }
    return { kind: "failed", busy: count(fences, -1), answered };
  }

  /**
   * Makes sure `token` is stored on a quorum while the lock is held there.
   * Nodes whose counter already equals it count as stored; the other locked
   * nodes are raised to it (EXTEND only acts where our value is still held).
   */
  private async publishToken(
    resource: string,
    value: string,
    ttlMs: number,
    token: number,
    fences: readonly NodeAnswer[],
  ): Promise<boolean> {
    const agreeing = count(fences, token);
    const lagging = this.nodes.filter((_, i) => {
      const fence = fences[i];
      return fence !== undefined && fence > 0 && fence < token;
    });
    if (lagging.length === 0) return agreeing >= this.quorum;
    const raise = this.askAll(lagging, (node) =>
      node.redlockExtend(resource, fenceKeyOf(resource), value, ttlMs, token, this.settings.fenceIdleTtlMs),
    );
    // With a quorum already agreeing, the lagging nodes are raised in the background, to keep them in step.
    if (agreeing >= this.quorum) return true;
    return agreeing + count(await raise, 1) >= this.quorum;
  }

  private leaseOf(resource: string, ttlMs: number, round: Extract<Round, { kind: "acquired" }>, attempts: number): RedlockLease {
    const lease = new RedlockLease(
      resource,
      round.value,
      round.token,
      attempts,
      round.validUntil,
      Math.max(1, Math.floor(ttlMs * this.settings.extendFraction)),
      (held) => this.renew(held, ttlMs),
      () => performance.now(),
    );
    lease.start();
    return lease;
  }

  /** One extension round: a fresh TTL on every node that still holds the value. */
  private async renew(lease: RedlockLease, ttlMs: number): Promise<number | undefined> {
    const started = performance.now();
    const fenceKey = fenceKeyOf(lease.resource);
    const answers = await this.askAll(
      this.nodes,
      (node) => node.redlockExtend(lease.resource, fenceKey, lease.value, ttlMs, lease.fencingToken, this.settings.fenceIdleTtlMs),
      (sofar) => count(sofar, 1) >= this.quorum,
    );
    if (count(answers, 1) >= this.quorum) return started + ttlMs - driftMs(this.settings, ttlMs);
    this.log?.warn({ resource: lease.resource, extended: count(answers, 1), quorum: this.quorum }, "exit lock extension missed its quorum");
    return undefined;
  }

  /**
   * Sends `call` to every node at once; a node that errs or misses the node
   * timeout answers undefined. Resolves when every node answered, or as soon
   * as the answers so far are `enough` to decide (the rest are not waited for,
   * their commands still run; answers not in yet are undefined).
   */
  private askAll(
    nodes: readonly RedisLockClient[],
    call: (node: RedisLockClient) => Promise<number>,
    enough?: (answers: readonly NodeAnswer[]) => boolean,
  ): Promise<NodeAnswer[]> {
    return new Promise((resolve) => {
      const answers: NodeAnswer[] = new Array<NodeAnswer>(nodes.length).fill(undefined);
      let pending = nodes.length;
      let done = false;
      const finish = () => {
        done = true;
        clearTimeout(timer);
        resolve(answers);
      };
      const timer = setTimeout(finish, this.settings.nodeTimeoutMs);
      const settle = (index: number, answer: NodeAnswer) => {
        if (done) return;
        answers[index] = answer;
        if (--pending === 0 || (enough !== undefined && answer !== undefined && enough(answers))) finish();
      };
      nodes.forEach((node, index) => {
        let reply: Promise<number>;
        try {
          reply = call(node);
        } catch {
          reply = Promise.reject(new Error("the node refused the command"));
        }
        reply.then(
          (answer) => settle(index, answer),
          () => settle(index, undefined),
        );
      });
    });
  }
}

/** The highest answer, -1 when none is a number. */
function highest(answers: readonly NodeAnswer[]): number {
  let max = -1;
  for (const answer of answers) if (answer !== undefined && answer > max) max = answer;
  return max;
}

function count(answers: readonly NodeAnswer[], wanted: number): number {
  let n = 0;
  for (const answer of answers) if (answer === wanted) n++;
  return n;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
