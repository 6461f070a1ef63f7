import { describe, expect, it } from "vitest";
import { createContextValues } from "@connectrpc/connect";
import { isTradingCoreError } from "../../../../src/domain/trading-core-error.js";
import type { CallInfo } from "../../../../src/rpc/call-middleware.js";
import { inflightExitLimit } from "../../../../src/server/middleware/inflight-exit-limit.js";

const call = (method: string, peer: string): CallInfo => ({
  service: "tradingcore.v1.ExitService",
  method,
  kind: "unary",
  engine: "grpc-js",
  protocol: "grpc",
  headers: { get: () => undefined },
  peer,
  signal: new AbortController().signal,
  values: createContextValues(),
});

describe("inflightExitLimit", () => {
  it("refuses the exit past the limit on one connection with resource-exhausted, and frees the slot when one finishes", async () => {
    const limit = inflightExitLimit(1);
    let finish!: () => void;
    const first = limit(call("ExecuteExit", "a:1"), () => new Promise<void>((resolve) => (finish = resolve)));
    const refused = await limit(call("ExecuteExit", "a:1"), async () => {}).catch((error: unknown) => error);
    expect(isTradingCoreError(refused, "resource-exhausted")).toBe(true);

    await limit(call("ExecuteExit", "b:2"), async () => {}); // another connection
    await limit(call("GetTracker", "a:1"), async () => {}); // not an exit
    finish();
    await first;
    await limit(call("ExitAll", "a:1"), async () => {});
  });
});
