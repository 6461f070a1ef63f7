/**
 * The audit trail over a real server on the embedded default (the memory
 * trail): WatchExits resumed from a sequence or a time, QueryExits filtered
 * and paged, and the answers to a start the trail no longer keeps and to bad
 * input.
 */
import { status as GrpcStatus } from "@grpc/grpc-js";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitReasonCode, ExitStatus } from "../../gen/tradingcore/v1/common_pb.js";
import { type ExitEvent, ExitEventKind } from "../../gen/tradingcore/v1/exit_pb.js";
import { registerTracker } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const exitRequest = (orderNo: string, reason = "stop loss hit") => ({ orderNo, reason, reasonCode: ExitReasonCode.STOP_LOSS });

/** The first `count` events of a WatchExits call, then the call is cancelled. */
async function watched(server: TestServer, request: Parameters<TestServer["exits"]["watchExits"]>[0], count: number): Promise<ExitEvent[]> {
  const controller = new AbortController();
  const events: ExitEvent[] = [];
  try {
    for await (const { event } of server.exits.watchExits(request, { signal: controller.signal })) {
      events.push(event!);
      if (events.length === count) controller.abort();
    }
  } catch (error) {
    if (events.length < count) throw error;
  }
  return events;
}

describe("the audit trail of one server", () => {
  let server: TestServer;
  const exited: string[] = [];
  beforeAll(async () => {
    server = await startTestServer();
    for (let i = 0; i < 4; i++) {
      const orderNo = await registerTracker(server);
      await server.exits.executeExit(exitRequest(orderNo, i % 2 === 0 ? "stop loss hit" : "target hit"));
      exited.push(orderNo);
    }
  });
  afterAll(() => server.close());

  it("numbers events 1, 2, 3 with the recording process and the append time", async () => {
    const { events } = await server.exits.queryExits({ pageSize: 1000 });
    expect(events.map((event) => event.sequence)).toEqual(events.map((_, i) => BigInt(i + 1)));
    expect(events.length).toBe(4 * 3);
    expect(new Set(events.map((event) => event.process)).size).toBe(1);
    expect(events[0]!.process).toMatch(/^.+:\d+:\d+$/);
    expect(events.every((event) => event.appendedTime !== undefined)).toBe(true);
  });

  it("replays from a sequence the events after it, then follows live", async () => {
    const { events: all } = await server.exits.queryExits({ pageSize: 1000 });
    const watching = watched(server, { fromSequence: all[4]!.sequence }, all.length - 5 + 3);
    const orderNo = await registerTracker(server);
    await server.exits.executeExit(exitRequest(orderNo));
    const seen = await watching;
    expect(seen.map((event) => event.sequence)).toEqual(seen.map((_, i) => all[5]!.sequence + BigInt(i)));
    expect(seen.slice(-3).map((event) => [event.tracker?.orderNo, event.kind])).toEqual([
      [orderNo, ExitEventKind.INTENT],
      [orderNo, ExitEventKind.ROUTER_ACCEPTED],
      [orderNo, ExitEventKind.EXITED],
    ]);
  });

  it("replays from a time the events appended since", async () => {
    const { events: all } = await server.exits.queryExits({ pageSize: 1000 });
    const seen = await watched(server, { fromTime: all[0]!.appendedTime!, orderNo: exited[1]! }, 3);
    expect(seen.map((event) => event.kind)).toEqual([ExitEventKind.INTENT, ExitEventKind.ROUTER_ACCEPTED, ExitEventKind.EXITED]);
  });

  it("pages QueryExits by status and reason with tokens, without a repeat", async () => {
    const first = await server.exits.queryExits({ status: ExitStatus.EXITED, reason: "target", pageSize: 1 });
    expect(first.events.map((event) => event.tracker?.orderNo)).toEqual([exited[1]]);
    expect(first.nextPageToken).not.toBe("");
    const second = await server.exits.queryExits({
      status: ExitStatus.EXITED,
      reason: "target",
      pageSize: 1,
      pageToken: first.nextPageToken,
    });
    expect(second.events.map((event) => event.tracker?.orderNo)).toEqual([exited[3]]);
    const third = await server.exits.queryExits({
      status: ExitStatus.EXITED,
      reason: "target",
      pageSize: 1,
      pageToken: second.nextPageToken,
    });
    expect(third.events).toEqual([]);
    expect(third.nextPageToken).toBe("");
  });

  it("answers one tracker's events in a time range that ends before now", async () => {
    const { events } = await server.exits.queryExits({ orderNo: exited[2]!, toTime: timestampFromMs(Date.now() + 60_000) });
    expect(events.map((event) => event.kind)).toEqual([ExitEventKind.INTENT, ExitEventKind.ROUTER_ACCEPTED, ExitEventKind.EXITED]);
    expect((await server.exits.queryExits({ toTime: timestampFromMs(0) })).events).toEqual([]);
  });

  it.each([
    ["a forged page token", { pageToken: "bm9wZQ" }, /page_token/],
    ["a page size over 1000", { pageSize: 1001 }, /page_size/],
    ["a range that ends before it starts", { fromTime: timestampFromMs(2_000), toTime: timestampFromMs(1_000) }, /to_time/],
    ["an unknown event kind", { kind: 99 }, /kind/],
  ])("answers INVALID_ARGUMENT for %s", async (_, request, message) => {
    await expect(server.exits.queryExits(request)).rejects.toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
      details: expect.stringMatching(message),
    });
  });
});

describe("the audit trail past its retention", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: { auditMaxEvents: 3 } });
    for (let i = 0; i < 2; i++) await server.exits.executeExit(exitRequest(await registerTracker(server)));
  });
  afterAll(() => server.close());

  it("answers OUT_OF_RANGE to a resume whose next event was dropped, naming the oldest kept", async () => {
    await expect(watched(server, { fromSequence: 1n }, 1)).rejects.toMatchObject({
      code: GrpcStatus.OUT_OF_RANGE,
      details: expect.stringMatching(/the oldest kept is sequence 4/),
    });
  });

  it("resumes from the sequence just before the oldest kept", async () => {
    const seen = await watched(server, { fromSequence: 3n }, 3);
    expect(seen.map((event) => event.sequence)).toEqual([4n, 5n, 6n]);
  });

  it("answers OUT_OF_RANGE to a query from a time before the oldest kept, and the kept events to one with no start", async () => {
    await expect(server.exits.queryExits({ fromTime: timestampFromMs(0) })).rejects.toMatchObject({ code: GrpcStatus.OUT_OF_RANGE });
    expect((await server.exits.queryExits({})).events.map((event) => event.sequence)).toEqual([4n, 5n, 6n]);
  });
});
