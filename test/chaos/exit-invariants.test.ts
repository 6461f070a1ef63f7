/**
 * The chaos suite's invariant checker on hand-made final states: it must
 * see every kind of violation, or a green chaos run proves nothing.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { TrackerSchema, TrackerStatus, type Tracker } from "../../gen/tradingcore/v1/common_pb.js";
import { Money } from "../../src/domain/money.js";
import type { CallRecord } from "./support/client-plan.js";
import { checkExitInvariants, type InvariantOptions, type ViolationKind } from "./support/exit-invariants.js";
import type { BookOrder, BookSnapshot } from "./support/paper-book-view.js";

const ORDER_NO = "CH-1";

function tracker(status: TrackerStatus, fields: Omit<MessageInitShape<typeof TrackerSchema>, "$typeName"> = {}): Tracker {
  return create(TrackerSchema, { orderNo: ORDER_NO, quantity: "75", status, exitCorrelationId: "x1-1", exitedQuantity: "0", ...fields });
}

function order(attempt: number, status: string, traded: string, price = "104.35"): BookOrder {
  return {
    orderId: `paper-${attempt}`,
    orderNo: ORDER_NO,
    correlationId: `x1-${attempt}`,
    status,
    quantity: new Money("75"),
    tradedQuantity: new Money(traded),
    ...(traded === "0" ? {} : { averagePrice: new Money(price) }),
  };
}

function book(orders: BookOrder[], accepted = orders.filter((o) => o.status !== "REJECTED").length): BookSnapshot {
  return { ordersByTracker: new Map([[ORDER_NO, orders]]), acceptedByTracker: new Map([[ORDER_NO, accepted]]), totalOrders: orders.length };
}

function answer(status: string, fields: Partial<CallRecord> = {}): CallRecord {
  return { client: 0, orderNo: ORDER_NO, address: "127.0.0.1:1", startedAt: 0, finishedAt: 1, status, message: "", ...fields };
}

function kinds(final: Tracker, snapshot: BookSnapshot, calls: CallRecord[] = [], options: InvariantOptions = {}): ViolationKind[] {
  const report = checkExitInvariants({ orderNos: [ORDER_NO], trackers: new Map([[ORDER_NO, final]]), book: snapshot, calls }, options);
  return [...new Set(report.violations.map((violation) => violation.kind))];
}

describe("the chaos invariant checker", () => {
  it("finds nothing wrong with a tracker EXITED at its one order's fill, told EXITED once", () => {
    const final = tracker(TrackerStatus.EXITED, { exitPrice: "104.35" });
    expect(
      kinds(final, book([order(1, "TRADED", "75")]), [
        answer("EXITED", { correlationId: "x1-1", exitPrice: "104.35", priceSource: "FILL" }),
        answer("ALREADY_EXITED"),
      ]),
    ).toEqual([]);
  });

  it("finds nothing wrong with an ACTIVE tracker whose orders were all rejected", () => {
    expect(
      kinds(tracker(TrackerStatus.ACTIVE), book([order(1, "REJECTED", "0")]), [answer("ROUTER_REJECTED", { correlationId: "x1-1" })]),
    ).toEqual([]);
  });

  it("reports a duplicate when two orders of one tracker filled", () => {
    const final = tracker(TrackerStatus.EXITED, { exitPrice: "104.35", exitCorrelationId: "x1-2" });
    expect(kinds(final, book([order(1, "TRADED", "75"), order(2, "TRADED", "75")]))).toContain("duplicate");
  });

  it("reports a duplicate when the book accepted more orders than it holds (one correlation id sent twice)", () => {
    expect(kinds(tracker(TrackerStatus.EXITED, { exitPrice: "104.35" }), book([order(1, "TRADED", "75")], 2))).toContain("duplicate");
  });

  it("accepts split fills that add up to the quantity only when the scenario allows them", () => {
    const final = tracker(TrackerStatus.EXITED, { exitPrice: "104.35", exitCorrelationId: "x1-2" });
    const split = book([order(1, "CANCELLED", "25"), order(2, "TRADED", "50")]);
    expect(kinds(final, split, [], { splitFills: true })).toEqual([]);
    expect(kinds(final, split)).toEqual(["duplicate"]);
  });

  it("reports an EXITED tracker whose order has not filled", () => {
    expect(kinds(tracker(TrackerStatus.EXITED, { exitPrice: "104.35" }), book([order(1, "CANCELLED", "0")]))).toEqual([
      "exited-without-fill",
    ]);
  });

  it("reports an EXITED tracker whose price is not its fills' average", () => {
    expect(kinds(tracker(TrackerStatus.EXITED, { exitPrice: "104.35" }), book([order(1, "TRADED", "75", "99.10")]))).toEqual([
      "inconsistent-answer",
    ]);
  });

  it("reports an ACTIVE tracker with a filled order", () => {
    expect(kinds(tracker(TrackerStatus.ACTIVE), book([order(1, "TRADED", "75")]))).toEqual(["active-with-fill"]);
  });

  it("reports an acknowledged EXITED that did not last as lost", () => {
    expect(kinds(tracker(TrackerStatus.ACTIVE), book([]), [answer("EXITED", { correlationId: "x1-1" })])).toEqual(["lost"]);
  });

  it("reports an EXITED answer priced from the LTP instead of a fill", () => {
    const final = tracker(TrackerStatus.EXITED, { exitPrice: "104.35" });
    expect(
      kinds(final, book([order(1, "TRADED", "75")]), [
        answer("EXITED", { correlationId: "x1-1", exitPrice: "104.35", priceSource: "MEMORY" }),
      ]),
    ).toEqual(["inconsistent-answer"]);
  });

  it("reports a settled tracker with an order still live at the broker", () => {
    const final = tracker(TrackerStatus.EXITED, { exitPrice: "104.35", exitCorrelationId: "x1-2" });
    expect(kinds(final, book([order(1, "PENDING", "0"), order(2, "TRADED", "75")]))).toEqual(["live-order"]);
  });

  it("reports a duplicate the tracker itself records as over-exited", () => {
    const final = tracker(TrackerStatus.EXITED, { exitPrice: "104.35", overExitedQuantity: "75" });
    expect(kinds(final, book([order(1, "TRADED", "75")]))).toEqual(["duplicate"]);
  });

  it("reports a tracker left EXITING as stuck", () => {
    expect(kinds(tracker(TrackerStatus.EXITING), book([order(1, "TRADED", "75")]))).toEqual(["stuck"]);
  });

  it("reports an EXITED answer for another attempt than the one the tracker exited by", () => {
    const final = tracker(TrackerStatus.EXITED, { exitPrice: "104.35", exitCorrelationId: "x1-2" });
    const snapshot = book([order(1, "REJECTED", "0"), order(2, "TRADED", "75")]);
    expect(kinds(final, snapshot, [answer("EXITED", { correlationId: "x1-1" })])).toEqual(["inconsistent-answer"]);
  });

  it("reports a ROUTER_REJECTED answer for an order the book filled", () => {
    const final = tracker(TrackerStatus.EXITED, { exitPrice: "104.35" });
    expect(kinds(final, book([order(1, "TRADED", "75")]), [answer("ROUTER_REJECTED", { correlationId: "x1-1" })])).toEqual([
      "inconsistent-answer",
    ]);
  });
});
