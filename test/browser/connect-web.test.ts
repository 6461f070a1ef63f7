/**
 * A page in a real browser (Debian's chromium, headless) calls the connect
 * engine with @connectrpc/connect-web, cross-origin, over the Connect
 * protocol and gRPC-Web: GetLtp and ExecuteExit answer as they do to any
 * other client, and the exit is placed once.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Segment, Side } from "../../gen/tradingcore/v1/common_pb.js";
import { uniqueOrderNo } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/test-server.js";
import type { PageAnswer } from "./page/client.js";
import { chromiumAbsent, launchChromium, type Chromium } from "./support/headless-chromium.js";
import { startPageServer, type PageServer } from "./support/page-server.js";

const TOKEN = "browser-token-91c2";
const bearer = { metadata: { authorization: `Bearer ${TOKEN}` } };

interface PageApi {
  exitAndQuote(protocol: string, baseUrl: string, token: string, orderNo: string, securityId: string): Promise<PageAnswer>;
  failure(protocol: string, baseUrl: string, token: string): Promise<string>;
}

describe.skipIf(chromiumAbsent)("A browser page calling the connect engine with connect-web", () => {
  let page: PageServer;
  let server: TestServer;
  let closed: TestServer;
  let browser: Chromium;
  let tab: Page;
  beforeAll(async () => {
    page = await startPageServer();
    server = await startTestServer({ engine: "connect", config: { authToken: TOKEN, corsAllowedOrigins: [page.origin] } });
    closed = await startTestServer({ engine: "connect", config: { authToken: TOKEN } });
    browser = await launchChromium();
    tab = await browser.context.newPage();
    await tab.goto(`${page.origin}/`);
    await tab.waitForFunction(() => "tradingcore" in globalThis);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await closed?.close();
    await page?.close();
  });

  const call = (protocol: string, base: string, orderNo: string, securityId: string) =>
    tab.evaluate(
      ([protocol, base, token, orderNo, securityId]) =>
        (globalThis as unknown as { tradingcore: PageApi }).tradingcore.exitAndQuote(protocol!, base!, token!, orderNo!, securityId!),
      [protocol, base, TOKEN, orderNo, securityId],
    );

  it.each(["connect", "grpc-web"])("over %s: GetLtp answers the published price and ExecuteExit exits exactly once", async (protocol) => {
    const securityId = protocol === "connect" ? "61001" : "61002";
    const instrument = { segment: Segment.NSE_FNO, securityId };
    await server.ticks.publishTicks([{ ticks: [{ instrument, ltp: "2450.85" }] }], bearer);
    const orderNo = uniqueOrderNo(`WEB-${protocol}`);
    await server.exits.registerTracker(
      { orderNo, ...instrument, side: Side.LONG, quantity: "75", entryPrice: "2400.1", paper: true },
      bearer,
    );

    const answer = await call(protocol, `http://${server.address}`, orderNo, securityId);

    expect(answer).toEqual({ ltpPrice: "2450.85", ltpFound: true, exitStatus: "EXITED", exitSuccess: true, againStatus: "ALREADY_EXITED" });
    expect(server.paper.ordersFor(orderNo)).toBe(1);
  });

  it("cannot call a server that does not list the page's origin: its preflight is refused and the call fails", async () => {
    const error = await tab.evaluate(
      ([base, token]) => (globalThis as unknown as { tradingcore: PageApi }).tradingcore.failure("connect", base!, token!),
      [`http://${closed.address}`, TOKEN],
    );
    expect(error).toMatch(/Failed to fetch|NetworkError|fetch/i);
    expect(error).not.toBe("no error");
  });
});
