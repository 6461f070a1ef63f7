import { afterEach, describe, expect, it } from "vitest";
import { PriceSource, Segment } from "../../gen/tradingcore/v1/common_pb.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const instrument = (securityId: string) => ({ segment: Segment.NSE_EQ, securityId });

describe("A StreamLtp subscriber that waits between many ticks", () => {
  it("gets every tick, and the server adds no listener per wait (no MaxListenersExceededWarning)", async () => {
    server = await startTestServer();
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    const controller = new AbortController();
    try {
      const stream = server.ticks.streamLtp({ instruments: [instrument("7001")] }, { signal: controller.signal })[Symbol.asyncIterator]();
      expect((await stream.next()).value?.ltp?.source).toBe(PriceSource.NONE);
      // Each tick is published only once the stream is idle again, waiting for the next one.
      for (let tick = 1; tick <= 40; tick++) {
        await server.ticks.publishTicks([{ ticks: [{ instrument: instrument("7001"), ltp: `${100 + tick}` }] }]);
        expect((await stream.next()).value?.ltp?.price).toBe(`${100 + tick}`);
      }
      controller.abort();
      await stream.return?.();
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    } finally {
      await new Promise((resolve) => setImmediate(resolve));
      process.off("warning", onWarning);
    }
    expect(warnings.filter((warning) => warning.name === "MaxListenersExceededWarning")).toEqual([]);
  });
});

describe("PublishTicks past the tick cache's instrument bound", () => {
  it("rejects ticks of new instruments naming the setting, keeps updating the ones held, and answers their prices", async () => {
    server = await startTestServer({ config: { maxTickInstruments: 3 } });
    const first = await server.ticks.publishTicks([{ ticks: ["1", "2"].map((id) => ({ instrument: instrument(id), ltp: "10" })) }]);
    expect(first).toMatchObject({ accepted: 2n, rejected: 0n });

    const second = await server.ticks.publishTicks([
      { ticks: ["3", "4", "4", "1", "5"].map((id, i) => ({ instrument: instrument(id), ltp: `${20 + i}` })) },
    ]);
    expect(second).toMatchObject({ accepted: 2n, rejected: 3n });
    expect(second.firstError).toBe(
      "ticks[1]: the tick cache holds its most instruments (3, --max-tick-instruments); ticks of new instruments are refused",
    );

    expect((await server.ticks.getLtp({ instrument: instrument("1") })).ltp?.price).toBe("23");
    expect((await server.ticks.getLtp({ instrument: instrument("3") })).ltp?.price).toBe("20");
    expect((await server.ticks.getLtp({ instrument: instrument("4") })).ltp?.source).toBe(PriceSource.NONE);
    expect(server.core.services.ticks.cache.size).toBe(3);
  });
});
