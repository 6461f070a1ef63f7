/**
 * The browser side of the browser test: connect-web clients of the two
 * services over the Connect protocol (JSON) and gRPC-Web (binary), bundled by
 * the test with esbuild and called from the page through `window.tradingcore`.
 */
import { createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { ExitStatus, Segment } from "../../../gen/tradingcore/v1/common_pb.js";
import { ExitService } from "../../../gen/tradingcore/v1/exit_pb.js";
import { TickService } from "../../../gen/tradingcore/v1/tick_pb.js";

type Protocol = "connect" | "grpc-web";

function transport(protocol: Protocol, baseUrl: string, token: string): Transport {
  const bearer: Interceptor = (next) => (request) => {
    request.header.set("authorization", `Bearer ${token}`);
    return next(request);
  };
  const interceptors = [bearer];
  return protocol === "connect" ? createConnectTransport({ baseUrl, interceptors }) : createGrpcWebTransport({ baseUrl, interceptors });
}

/** What the page reports back to the test: plain JSON values. */
export interface PageAnswer {
  readonly ltpPrice: string;
  readonly ltpFound: boolean;
  readonly exitStatus: string;
  readonly exitSuccess: boolean;
  readonly againStatus: string;
}

async function exitAndQuote(protocol: Protocol, baseUrl: string, token: string, orderNo: string, securityId: string): Promise<PageAnswer> {
  const via = transport(protocol, baseUrl, token);
  const ticks = createClient(TickService, via);
  const exits = createClient(ExitService, via);
  const { ltp } = await ticks.getLtp({ instrument: { segment: Segment.NSE_FNO, securityId } });
  const { result } = await exits.executeExit({ orderNo, reason: `browser ${protocol}` });
  const again = await exits.executeExit({ orderNo, reason: `browser ${protocol} again` });
  return {
    ltpPrice: ltp?.price ?? "",
    ltpFound: ltp?.found ?? false,
    exitStatus: ExitStatus[result?.status ?? ExitStatus.UNSPECIFIED],
    exitSuccess: result?.success ?? false,
    againStatus: ExitStatus[again.result?.status ?? ExitStatus.UNSPECIFIED],
  };
}

/** The error a call fails with, as text (the browser refuses a cross-origin answer CORS does not allow). */
async function failure(protocol: Protocol, baseUrl: string, token: string): Promise<string> {
  try {
    await createClient(TickService, transport(protocol, baseUrl, token)).getLtp({
      instrument: { segment: Segment.NSE_FNO, securityId: "1" },
    });
    return "no error";
  } catch (error) {
    return String(error);
  }
}

(globalThis as Record<string, unknown>).tradingcore = { exitAndQuote, failure };
