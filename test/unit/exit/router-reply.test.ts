import { describe, expect, it } from "vitest";
import { classifyRouterReply } from "../../../src/exit/router-reply.js";

describe("classifyRouterReply (seed 5: success detection)", () => {
  it.each([
    ["boolean true", true],
    ["success: true", { success: true }],
    ["success: 1", { success: 1 }],
    ['success: "true"', { success: "true" }],
    ['success: "TRUE"', { success: "TRUE" }],
    ['success: "yes"', { success: "yes" }],
    ['success: "Yes"', { success: "Yes" }],
    ['success: " yes "', { success: " yes " }],
    ["orderStatus TRANSIT", { orderId: "1", orderStatus: "TRANSIT" }],
    ["orderStatus PENDING", { orderId: "1", orderStatus: "PENDING" }],
    ["orderStatus PART_TRADED", { orderId: "1", orderStatus: "PART_TRADED" }],
    ["orderStatus TRADED", { orderId: "1", orderStatus: "TRADED" }],
    ["status traded (lower case)", { status: "traded" }],
  ])("accepts %s", (_, reply) => {
    expect(classifyRouterReply(reply).kind).toBe("accepted");
  });

  it.each([
    ["boolean false", false],
    ["success: false", { success: false }],
    ["success: 0", { success: 0 }],
    ['success: "no"', { success: "NO" }],
    ['success: "false"', { success: "false" }],
    ["orderStatus REJECTED", { orderStatus: "REJECTED" }],
    ["orderStatus CANCELLED", { orderStatus: "CANCELLED" }],
    ["orderStatus EXPIRED", { orderStatus: "EXPIRED" }],
  ])("rejects %s", (_, reply) => {
    expect(classifyRouterReply(reply).kind).toBe("rejected");
  });

  it.each([
    ["null", null],
    ["undefined", undefined],
    ["a string", "ok"],
    ["the number 1 alone", 1],
    ["an array", [true]],
    ["an empty object", {}],
    ['success: "maybe"', { success: "maybe" }],
    ["success: 2", { success: 2 }],
    ["an unknown broker status", { orderStatus: "PARKED" }],
  ])("treats %s as unknown, so the order is looked up and never re-placed", (_, reply) => {
    expect(classifyRouterReply(reply).kind).toBe("unknown");
  });

  it("keeps the broker's order id", () => {
    expect(classifyRouterReply({ orderId: "112111182198", orderStatus: "PENDING" })).toEqual({ kind: "accepted", orderId: "112111182198" });
  });

  it("carries the fill of a TRADED reply as decimals", () => {
    const outcome = classifyRouterReply({ orderId: "9", orderStatus: "TRADED", averageTradedPrice: "101.05", filledQty: "75" });
    expect(outcome.kind).toBe("accepted");
    if (outcome.kind !== "accepted") return;
    expect(outcome.fill?.price.toFixed()).toBe("101.05");
    expect(outcome.fill?.quantity.toFixed()).toBe("75");
  });

  it("names the broker's message on a rejection", () => {
    const outcome = classifyRouterReply({ orderStatus: "REJECTED", message: "RMS: margin exceeded" });
    expect(outcome).toMatchObject({ kind: "rejected", message: "RMS: margin exceeded" });
  });
});
