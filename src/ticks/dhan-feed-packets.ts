/**
 * Dhan's live market feed v2 on the wire: the JSON subscription messages a
 * client sends, and the binary packets the server answers with.
 *
 * Every binary packet starts with an 8-byte little-endian header: response
 * code (uint8), message length (uint16), exchange segment (uint8, the feed's
 * own numbering below), security id (uint32). A ticker packet (code 2) adds
 * the last traded price (float32) and the last trade time (int32, epoch s):
 * 16 bytes. Code 50 is the server saying it disconnects, with an int16
 * reason. A subscription message names at most 100 instruments; one
 * connection carries at most 5,000.
 */
import { Segment } from "../../gen/tradingcore/v1/common_pb.js";

export const FEED_REQUEST = { subscribeTicker: 15, unsubscribeTicker: 16, subscribeQuote: 17, subscribeFull: 21, disconnect: 12 } as const;
export const MAX_INSTRUMENTS_PER_MESSAGE = 100;
export const MAX_INSTRUMENTS_PER_CONNECTION = 5_000;
export const TICKER_PACKET = 2;
export const DISCONNECT_PACKET = 50;
const HEADER_BYTES = 8;
const TICKER_BYTES = 16;

/** The feed's exchange segment numbers, and the names its JSON messages use. */
const FEED_SEGMENTS: readonly (readonly [Segment, number, string])[] = [
  [Segment.IDX_I, 0, "IDX_I"],
  [Segment.NSE_EQ, 1, "NSE_EQ"],
  [Segment.NSE_FNO, 2, "NSE_FNO"],
  [Segment.NSE_CURRENCY, 3, "NSE_CURRENCY"],
  [Segment.BSE_EQ, 4, "BSE_EQ"],
  [Segment.MCX_COMM, 5, "MCX_COMM"],
  [Segment.BSE_CURRENCY, 7, "BSE_CURRENCY"],
  [Segment.BSE_FNO, 8, "BSE_FNO"],
];

export function feedSegmentName(segment: Segment): string | undefined {
  return FEED_SEGMENTS.find(([ours]) => ours === segment)?.[2];
}

export function segmentOfFeedName(name: string): Segment | undefined {
  return FEED_SEGMENTS.find(([, , feed]) => feed === name)?.[0];
}

export function feedSegmentCode(segment: Segment): number | undefined {
  return FEED_SEGMENTS.find(([ours]) => ours === segment)?.[1];
}

export interface FeedInstrument {
  readonly segment: Segment;
  readonly securityId: string;
}

/** Subscription (or unsubscription) messages for `instruments`, 100 a message. Instruments of a segment the feed lacks are left out. */
export function subscriptionMessages(requestCode: number, instruments: readonly FeedInstrument[]): string[] {
  const listed = instruments.flatMap((instrument) => {
    const name = feedSegmentName(instrument.segment);
    return name ? [{ ExchangeSegment: name, SecurityId: instrument.securityId }] : [];
  });
  const messages: string[] = [];
  for (let start = 0; start < listed.length; start += MAX_INSTRUMENTS_PER_MESSAGE) {
    const batch = listed.slice(start, start + MAX_INSTRUMENTS_PER_MESSAGE);
    messages.push(JSON.stringify({ RequestCode: requestCode, InstrumentCount: batch.length, InstrumentList: batch }));
  }
  return messages;
}

export type FeedPacket =
  | {
      readonly kind: "ticker";
      readonly segment: Segment;
      readonly securityId: string;
      /** The float32 as the wire carries it: round it to the tick size before it becomes a price. */
      readonly ltp: number;
      readonly tradeTimeSec: number;
    }
  | { readonly kind: "disconnect"; readonly reason: number }
  | { readonly kind: "other"; readonly code: number }
  | { readonly kind: "invalid"; readonly why: string };

/** Reads one binary message. Never throws. */
export function decodeFeedPacket(bytes: Uint8Array): FeedPacket {
  if (bytes.length < HEADER_BYTES) return { kind: "invalid", why: `${bytes.length} bytes, shorter than the 8-byte header` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const code = view.getUint8(0);
  if (code === DISCONNECT_PACKET) return { kind: "disconnect", reason: bytes.length >= 10 ? view.getInt16(8, true) : 0 };
  if (code !== TICKER_PACKET) return { kind: "other", code };
  if (bytes.length < TICKER_BYTES) return { kind: "invalid", why: `ticker packet of ${bytes.length} bytes` };
  const segmentCode = view.getUint8(3);
  const segment = FEED_SEGMENTS.find(([, feed]) => feed === segmentCode)?.[0];
  if (segment === undefined) return { kind: "invalid", why: `unknown exchange segment ${segmentCode}` };
  return {
    kind: "ticker",
    segment,
    securityId: String(view.getUint32(4, true)),
    ltp: view.getFloat32(8, true),
    tradeTimeSec: view.getInt32(12, true),
  };
}

/** A ticker packet: what the simulator sends, and what tests feed the decoder. */
export function encodeTickerPacket(segment: Segment, securityId: number, ltp: string, tradeTimeSec: number): Uint8Array {
  const bytes = new Uint8Array(TICKER_BYTES);
  const view = new DataView(bytes.buffer);
  writeHeader(view, TICKER_PACKET, TICKER_BYTES, feedSegmentCode(segment) ?? 0, securityId);
  // The price is a decimal until this write: float32 is Dhan's wire format, and only the wire's.
  view.setFloat32(8, Number(ltp), true);
  view.setInt32(12, tradeTimeSec, true);
  return bytes;
}

/** The server's disconnect packet, with its reason code. */
export function encodeDisconnectPacket(reason: number): Uint8Array {
  const bytes = new Uint8Array(10);
  const view = new DataView(bytes.buffer);
  writeHeader(view, DISCONNECT_PACKET, 10, 0, 0);
  view.setInt16(8, reason, true);
  return bytes;
}

function writeHeader(view: DataView, code: number, length: number, segmentCode: number, securityId: number): void {
  view.setUint8(0, code);
  view.setUint16(1, length, true);
  view.setUint8(3, segmentCode);
  view.setUint32(4, securityId, true);
}
