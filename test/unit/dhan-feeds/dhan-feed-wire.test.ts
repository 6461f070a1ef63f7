import { describe, expect, it } from "vitest";
import { Segment } from "../../../gen/tradingcore/v1/common_pb.js";
import { BrokerOrderStatus } from "../../../gen/tradingcore/v1/exit_pb.js";
import { priceOfFloat32, tickSizeOf } from "../../../src/dhan-feeds/dhan-market-feed.js";
import { Money } from "../../../src/domain/money.js";
import { epochMsToIst, istToEpochMs, readOrderAlert } from "../../../src/router/dhan-order-alert.js";
import {
  decodeFeedPacket,
  encodeDisconnectPacket,
  encodeTickerPacket,
  subscriptionMessages,
} from "../../../src/ticks/dhan-feed-packets.js";
import { exitCorrelationId } from "../../../src/domain/exit-correlation-id.js";

const OURS = exitCorrelationId({ orderNo: "ENTRY-1", createdAt: 1_764_650_000_000 }, 1);
const alert = (data: string) => `{"Data":{${data}},"Type":"order_alert"}`;

describe("an order_alert of Dhan's order update feed", () => {
  it("reads as an order update of ours: status in any casing, decimals from their JSON text, IST time", () => {
    const reading = readOrderAlert(
      alert(
        `"OrderNo":"5212","Status":"Part_Traded","TradedQty":10,"Quantity":20,"AvgTradedPrice":101.05000000000000001,` +
          `"LastUpdatedTime":"2026-12-02 09:15:30","CorrelationId":"${OURS}"`,
      ),
      0,
    );
    expect(reading.kind).toBe("update");
    if (reading.kind !== "update") return;
    expect(reading.update).toMatchObject({ correlationId: OURS, orderId: "5212", status: BrokerOrderStatus.PART_TRADED });
    expect(reading.update.tradedQuantity?.toFixed()).toBe("10");
    expect(reading.update.averagePrice?.toFixed()).toBe("101.05000000000000001");
    expect(reading.update.updateTimeMs).toBe(Date.UTC(2026, 11, 2, 3, 45, 30));
  });

  it("is foreign when its correlation id is not one the exit engine derives, so it is never parked", () => {
    expect(readOrderAlert(alert(`"OrderNo":"77","Status":"Traded","CorrelationId":"strategy-entry-9"`), 0)).toEqual({
      kind: "foreign",
      orderNo: "77",
    });
    expect(readOrderAlert(alert(`"OrderNo":"78","Status":"Traded"`), 0).kind).toBe("foreign");
  });

  it("is invalid with a status no one documents, and other messages are told apart from alerts", () => {
    expect(readOrderAlert(alert(`"Status":"Exploded","CorrelationId":"${OURS}"`), 0)).toMatchObject({
      kind: "invalid",
      why: expect.stringContaining("Exploded"),
    });
    expect(readOrderAlert(`{"Type":"heartbeat"}`, 0)).toEqual({ kind: "other", type: "heartbeat" });
    expect(readOrderAlert("not json", 0).kind).toBe("invalid");
  });

  it("takes the receive time when LastUpdatedTime is missing or of another shape", () => {
    const reading = readOrderAlert(alert(`"Status":"TRADED","LastUpdatedTime":"02/12/2026","CorrelationId":"${OURS}"`), 42);
    expect(reading.kind === "update" && reading.update.updateTimeMs).toBe(42);
  });

  it("writes and reads IST times the same way", () => {
    const ms = Date.UTC(2026, 11, 2, 10, 0, 1);
    expect(epochMsToIst(ms)).toBe("2026-12-02 15:30:01");
    expect(istToEpochMs(epochMsToIst(ms))).toBe(ms);
  });
});

describe("Dhan market feed packets", () => {
  it("decode a ticker packet's header and body, little-endian", () => {
    const packet = decodeFeedPacket(encodeTickerPacket(Segment.NSE_FNO, 52175, "101.55", 1_764_660_000));
    expect(packet).toMatchObject({ kind: "ticker", segment: Segment.NSE_FNO, securityId: "52175", tradeTimeSec: 1_764_660_000 });
    const bytes = encodeTickerPacket(Segment.NSE_EQ, 1333, "1", 0);
    expect([...bytes.subarray(0, 8)]).toEqual([2, 16, 0, 1, 0x35, 0x05, 0, 0]);
  });

  it("decode the disconnect packet's reason, and refuse what is too short", () => {
    expect(decodeFeedPacket(encodeDisconnectPacket(807))).toEqual({ kind: "disconnect", reason: 807 });
    expect(decodeFeedPacket(new Uint8Array(5)).kind).toBe("invalid");
    expect(decodeFeedPacket(encodeTickerPacket(Segment.NSE_EQ, 1, "1", 0).subarray(0, 12)).kind).toBe("invalid");
  });

  it("subscribe at most 100 instruments a message", () => {
    const instruments = Array.from({ length: 250 }, (_, i) => ({ segment: Segment.NSE_EQ, securityId: String(i) }));
    const messages = subscriptionMessages(15, instruments).map(
      (text) => JSON.parse(text) as { RequestCode: number; InstrumentCount: number; InstrumentList: unknown[] },
    );
    expect(messages.map((message) => message.InstrumentCount)).toEqual([100, 100, 50]);
    expect(messages[0]).toMatchObject({
      RequestCode: 15,
      InstrumentList: expect.arrayContaining([{ ExchangeSegment: "NSE_EQ", SecurityId: "0" }]),
    });
  });
});

describe("a float32 price from the market feed", () => {
  it("becomes the decimal of the nearest tick, not the float's digits", () => {
    const wire = Math.fround(101.55);
    expect(String(wire)).not.toBe("101.55");
    expect(priceOfFloat32(wire, new Money("0.05"))?.toFixed()).toBe("101.55");
    expect(priceOfFloat32(Math.fround(24_012.35), new Money("0.05"))?.toFixed()).toBe("24012.35");
    expect(priceOfFloat32(Math.fround(83.2575), new Money("0.0025"))?.toFixed()).toBe("83.2575");
  });

  it("is dropped when it rounds to zero or is not a number", () => {
    expect(priceOfFloat32(0.01, new Money("0.05"))).toBeUndefined();
    expect(priceOfFloat32(Number.NaN, new Money("0.05"))).toBeUndefined();
  });

  it("takes the instrument's tick size, else its segment's, else the default", () => {
    const sizes = {
      defaultSize: new Money("0.05"),
      overrides: new Map([
        ["NSE_CURRENCY", new Money("0.0025")],
        ["NSE_EQ:1333", new Money("0.1")],
      ]),
    };
    expect(tickSizeOf(sizes, Segment.NSE_EQ, "1333").toFixed()).toBe("0.1");
    expect(tickSizeOf(sizes, Segment.NSE_EQ, "2885").toFixed()).toBe("0.05");
    expect(tickSizeOf(sizes, Segment.NSE_CURRENCY, "1").toFixed()).toBe("0.0025");
  });
});
