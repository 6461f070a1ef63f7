import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrackerStatus } from "../../../gen/tradingcore/v1/common_pb.js";
import { EXIT_SPANS } from "../../../src/exit/exit-tracing.js";
import { NO_FAULTS } from "../../../src/router/paper-router.js";
import { type RecordingTelemetry, startRecordingTelemetry } from "../../support/recording-telemetry.js";
import { exitWorld } from "../exit/exit-world.js";

const GRACE_MS = 10_000;

describe("tracing with an SDK installed", () => {
  let recording: RecordingTelemetry;
  beforeAll(() => {
    recording = startRecordingTelemetry();
  });
  afterAll(() => recording.shutdown());

  it("parents a reconciler pass's resolution, and that resolution's exit steps, on the pass span", async () => {
    const world = exitWorld();
    await world.register("ORD-1");
    world.router.faults = { ...NO_FAULTS, lostReplyRate: 1 };
    await world.exit("ORD-1");
    world.router.faults = NO_FAULTS;
    world.clock.advance(GRACE_MS + 1);
    const reconciler = world.reconciler({ settings: { graceMs: GRACE_MS, retryBudget: 3 } });
    await reconciler.runOnce();
    expect((await world.tracker("ORD-1")).status).toBe(TrackerStatus.EXITED);

    await recording.flush();
    const spans = recording.spans.getFinishedSpans();
    const pass = spans.find((span) => span.name === "reconciler.pass")!;
    const resolve = spans.find((span) => span.name === "reconciler.resolve")!;
    expect(resolve.parentSpanContext?.spanId).toBe(pass.spanContext().spanId);
    expect(resolve.spanContext().traceId).toBe(pass.spanContext().traceId);
    const steps = spans.filter((span) => span.parentSpanContext?.spanId === resolve.spanContext().spanId).map((span) => span.name);
    expect(steps).toEqual([EXIT_SPANS.lockAcquire, EXIT_SPANS.routerLookup, EXIT_SPANS.trackerUpdate, EXIT_SPANS.lockRelease]);
  });

  it("exports no span for a pass that found nothing to do", async () => {
    const world = exitWorld();
    await world.register("ORD-IDLE");
    const reconciler = world.reconciler({ settings: { graceMs: GRACE_MS, retryBudget: 3 } });
    recording.spans.reset();
    const counts = await reconciler.runOnce();
    expect(counts.passes).toBe(1);
    await recording.flush();
    expect(recording.spans.getFinishedSpans().map((span) => span.name)).not.toContain("reconciler.pass");
  });
});
