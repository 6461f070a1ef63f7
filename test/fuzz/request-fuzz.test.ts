/**
 * Property-based robustness suite: hostile requests to every RPC of
 * ExitService and TickService, sent as raw bytes over gRPC (so they can be
 * invalid UTF-8 or repeat a field), on the engine of this project run.
 *
 * For every request: the server answers (never crashes, never INTERNAL), with
 * the documented refusal naming the field, in a short message; the trackers
 * (ListTrackers) and the parked order updates are as they were; and once the
 * suite is done a normal exit still works.
 *
 * Fixed seeds and bounded runs: the same inputs on every run, in seconds.
 */
import { Code } from "@connectrpc/connect";
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitStatus, Segment } from "../../gen/tradingcore/v1/common_pb.js";
import type { ExecuteExitResponse } from "../../gen/tradingcore/v1/exit_pb.js";
import type { PublishTicksResponse } from "../../gen/tradingcore/v1/tick_pb.js";
import { defaultConfig } from "../../src/config.js";
import { publishTick, registerTracker } from "../support/fixtures.js";
import { RawGrpcClient } from "../support/raw-grpc.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import { FUZZ_TARGETS, type FuzzTarget, type Mutation } from "./support/fuzz-targets.js";
import { concat, unknownField } from "./support/wire.js";

const SEED = 20_261_202;
/** Runs per property; `TRADINGCORE_FUZZ_RUNS=2000` for a longer search than CI's. */
const RUNS = Number(process.env.TRADINGCORE_FUZZ_RUNS ?? 100);
/** The test server's --max-message-bytes. */
const MAX_MESSAGE_BYTES = defaultConfig().maxMessageBytes;
/** Longest refusal message a client is sent: some clients fail a call whose grpc-message is long. */
const MAX_MESSAGE_LENGTH = 512;

/** Unknown fields a request may carry besides its mutations: a server skips them. */
const unknownFields = fc.array(
  fc
    .tuple(
      fc.integer({ min: 1000, max: 536_870_911 }),
      fc.constantFrom("varint", "bytes", "fixed32", "fixed64") as fc.Arbitrary<"varint" | "bytes" | "fixed32" | "fixed64">,
      fc.uint8Array({ maxLength: 64 }),
    )
    .map(([no, kind, payload]) => unknownField(no, kind, payload)),
  { maxLength: 3 },
);

/** The grpc-message as the server meant it (the connect engine percent-encodes more than grpc-js decodes). */
function detailsOf(error: ServiceError): string {
  try {
    return decodeURIComponent(error.details);
  } catch {
    return error.details;
  }
}

describe(`hostile requests to every RPC (engine ${process.env.TRADINGCORE_TEST_ENGINE ?? "grpc-js"})`, () => {
  let server: TestServer;
  let raw: RawGrpcClient;
  let exitable: string;
  beforeAll(async () => {
    server = await startTestServer();
    raw = new RawGrpcClient(server.address);
    exitable = await registerTracker(server);
    await registerTracker(server, { segment: Segment.NSE_EQ, securityId: "1333" });
    await publishTick(server, "104.35");
  });
  afterAll(async () => {
    raw.close();
    await server.close();
  });

  const trackers = async () => (await server.exits.listTrackers({ pageSize: 1000 })).trackers;
  const parked = () => server.core.services.orderUpdates.parkedCount;

  /** Sends `request` to `target`; resolves with what the caller sees, refusals included. */
  async function send(target: FuzzTarget, request: Uint8Array): Promise<{ answers: unknown[] } | { error: ServiceError }> {
    try {
      return { answers: await raw.call(target.method, request) };
    } catch (error) {
      return { error: error as ServiceError };
    }
  }

  function expectRefused(
    target: FuzzTarget,
    request: Uint8Array,
    answer: Awaited<ReturnType<typeof send>>,
    mutations: readonly Mutation[],
  ) {
    if (request.length > MAX_MESSAGE_BYTES) {
      // Over the message size limit, the transport refuses it before anything reads a field, on every RPC.
      expect("error" in answer && answer.error.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
      return;
    }
    const refusing = mutations.filter((each) => each.outcome === "refused");
    const named = (refusing.length > 0 ? refusing : mutations).map((each) => each.field);
    const namesOne = (text: string) => named.some((field) => text.includes(field));
    if (target.method.name === "ExecuteExit") {
      expect("answers" in answer, "ExecuteExit answers OK for invalid input").toBe(true);
      const { result } = (answer as { answers: ExecuteExitResponse[] }).answers[0]!;
      expect(result?.status).toBe(ExitStatus.INVALID_REQUEST);
      expect(result!.message.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
      expect(namesOne(result!.message), `"${result!.message}" names one of ${named}`).toBe(true);
      return;
    }
    if (refusing.length === 0) {
      // PublishTicks: a malformed tick within the bounds is counted, not fatal.
      expect("answers" in answer, "PublishTicks takes the stream and counts the bad tick").toBe(true);
      const counted = (answer as { answers: PublishTicksResponse[] }).answers[0]!;
      expect(counted.rejected).toBeGreaterThanOrEqual(1n);
      expect(counted.firstError.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
      expect(namesOne(counted.firstError), `"${counted.firstError}" names one of ${named}`).toBe(true);
      return;
    }
    expect("error" in answer, `${target.method.name} refuses the request`).toBe(true);
    const { error } = answer as { error: ServiceError };
    const details = detailsOf(error);
    expect({ code: error.code, details }).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT });
    expect(error.details.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
    expect(namesOne(details), `"${details}" names one of ${named}`).toBe(true);
  }

  describe.each(FUZZ_TARGETS.map((target) => [target.method.name, target] as const))("%s", (_, target) => {
    it("refuses every invalid request naming the field, and changes nothing", { timeout: 180_000 }, async () => {
      const before = await trackers();
      const parkedBefore = parked();
      await fc.assert(
        fc.asyncProperty(fc.array(target.invalid, { minLength: 1, maxLength: 3 }), unknownFields, async (mutations, unknown) => {
          const request = concat(target.base, ...unknown, ...mutations.map((each) => each.bytes));
          expectRefused(target, request, await send(target, request), mutations);
          expect(parked()).toBe(parkedBefore);
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
      expect(await trackers()).toEqual(before);
    });

    if (target.harmless) {
      const harmless = target.harmless;
      it("answers hostile but valid requests normally, and changes no tracker", { timeout: 120_000 }, async () => {
        const before = await trackers();
        await fc.assert(
          fc.asyncProperty(harmless, unknownFields, async (request, unknown) => {
            const answer = await send(target, concat(request, ...unknown));
            if ("error" in answer) {
              expect({ code: answer.error.code, details: detailsOf(answer.error) }).toMatchObject({ code: Code.NotFound });
            } else if (target.method.name === "ExecuteExit") {
              expect((answer.answers[0] as ExecuteExitResponse).result?.status).toBe(ExitStatus.TRACKER_NOT_FOUND);
            }
          }),
          { seed: SEED, numRuns: RUNS, endOnFailure: true },
        );
        expect(await trackers()).toEqual(before);
      });
    }
  });

  describe("bytes that are not a request message at all", () => {
    const targets = FUZZ_TARGETS.filter(
      (target) => !target.subscription && !["RegisterTracker", "ExitAll", "OpenSession"].includes(target.method.name),
    );
    it("never crash the server or change a tracker", { timeout: 120_000 }, async () => {
      const before = await trackers();
      await fc.assert(
        // By index, so a counterexample prints as a number rather than the whole target.
        fc.asyncProperty(fc.nat({ max: targets.length - 1 }), fc.uint8Array({ minLength: 1, maxLength: 256 }), async (index, bytes) => {
          const target = targets[index]!;
          const answer = await send(target, bytes);
          if (!("error" in answer)) return;
          const allowed = [GrpcStatus.INVALID_ARGUMENT, GrpcStatus.NOT_FOUND];
          // connect-node decodes a unary request before any of the server's code runs, and answers INTERNAL "parse binary".
          const connectUnary = server.engine === "connect" && target.method.methodKind === "unary";
          if (connectUnary && detailsOf(answer.error).startsWith("parse binary")) allowed.push(GrpcStatus.INTERNAL);
          expect(allowed, `${target.method.name}: ${answer.error.code} ${detailsOf(answer.error)}`).toContain(answer.error.code);
        }),
        { seed: SEED, numRuns: RUNS * 3, endOnFailure: true },
      );
      expect(await trackers()).toEqual(before);
    });
  });

  it("still exits a position normally afterwards", async () => {
    const { result } = await server.exits.executeExit({ orderNo: exitable, reason: "after the fuzzing" });
    expect(result?.status).toBe(ExitStatus.EXITED);
    expect(result?.exitPrice).toBe("104.35");
  });
});
