import { Segment, Side } from "../../gen/tradingcore/v1/common_pb.js";
import type { TestServer } from "./test-server.js";

let sequence = 0;

/** A unique order_no per call, so tests never share trackers. */
export function uniqueOrderNo(prefix = "T"): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${sequence}`;
}

/** A valid RegisterTracker request (a new order_no each call), for tests that change one field of it. */
export function validRegisterRequest() {
  return {
    orderNo: uniqueOrderNo(),
    segment: Segment.NSE_EQ,
    securityId: "1333",
    symbol: "HDFCBANK",
    side: Side.LONG,
    quantity: "10",
    entryPrice: "1520.35",
  };
}

export interface TrackerFixture {
  orderNo?: string;
  securityId?: string;
  segment?: Segment;
  side?: Side;
  quantity?: string;
  entryPrice?: string;
  paper?: boolean;
  /** The session (dead-man switch) to register it under. */
  sessionId?: string;
  /**
   * The instrument's LTP the paper market fills at: when absent, a tick at the
   * entry price is published unless the server already knows one; `null`
   * publishes none (an exit then waits for a tick: AWAITING_FILL).
   */
  ltp?: string | null;
}

/** Registers an ACTIVE long tracker (overridable), makes sure its instrument has an LTP (see `ltp`), and returns its order_no. */
export async function registerTracker(server: TestServer, fixture: TrackerFixture = {}): Promise<string> {
  const orderNo = fixture.orderNo ?? uniqueOrderNo();
  await server.exits.registerTracker({
    orderNo,
    segment: fixture.segment ?? Segment.NSE_FNO,
    securityId: fixture.securityId ?? "52175",
    symbol: "NIFTY24DEC24000CE",
    side: fixture.side ?? Side.LONG,
    quantity: fixture.quantity ?? "75",
    entryPrice: fixture.entryPrice ?? "101.55",
    paper: fixture.paper ?? true,
    sessionId: fixture.sessionId ?? "",
  });
  const segment = fixture.segment ?? Segment.NSE_FNO;
  const securityId = fixture.securityId ?? "52175";
  if (fixture.ltp === null) return orderNo;
  if (fixture.ltp !== undefined) await publishTick(server, fixture.ltp, securityId, segment);
  else if (!(await server.ticks.getLtp({ instrument: { segment, securityId } })).ltp?.found)
    await publishTick(server, fixture.entryPrice ?? "101.55", securityId, segment);
  return orderNo;
}

/** Publishes one tick for an instrument at `ltp` (a decimal string). */
export async function publishTick(server: TestServer, ltp: string, securityId = "52175", segment = Segment.NSE_FNO, timeMs?: number) {
  const { timestampFromMs } = await import("@bufbuild/protobuf/wkt");
  return server.ticks.publishTicks([
    { ticks: [{ instrument: { segment, securityId }, ltp, ...(timeMs === undefined ? {} : { time: timestampFromMs(timeMs) }) }] },
  ]);
}
