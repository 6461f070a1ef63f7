/**
 * One HTTP/2 request written frame by frame on a raw socket, for what
 * node's client refuses to send: a header name given twice (`authorization`
 * is a single-value field there), or broken frames. Headers are HPACK
 * literals without indexing; the answer is not decoded, only how stream 1
 * ended, so tests read the outcome on the server side.
 */
import * as net from "node:net";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
const DATA = 0;
const HEADERS = 1;
const RST_STREAM = 3;
const SETTINGS = 4;
const GOAWAY = 7;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const ACK = 0x1;

export type StreamEnd = "answered" | "reset" | "goaway" | "connection closed";

/** A frame: 3-byte length, type, flags, 4-byte stream id, payload. */
export function frame(type: number, flags: number, streamId: number, payload: Uint8Array = new Uint8Array()): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK header block of literals without indexing (new names), in the order given. */
export function headerBlock(headers: readonly (readonly [string, string])[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of headers) parts.push(Buffer.from([0]), hpackString(name), hpackString(value));
  return Buffer.concat(parts);
}

function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, "latin1");
  return Buffer.concat([hpackInteger(bytes.length, 7), bytes]);
}

function hpackInteger(value: number, prefixBits: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([value]);
  const out = [max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

/**
 * Opens a connection to `address`, sends one POST on stream 1 with `headers`
 * (pseudo-headers are added) and `body`, and resolves with how stream 1 ended.
 */
export async function rawHttp2Request(
  address: string,
  path: string,
  headers: readonly (readonly [string, string])[],
  body: Uint8Array,
): Promise<StreamEnd> {
  const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
  const socket = net.connect(port, host);
  socket.on("error", () => {});
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  const block = headerBlock([[":method", "POST"], [":scheme", "http"], [":path", path], [":authority", address], ...headers]);
  socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(HEADERS, END_HEADERS, 1, block), frame(DATA, END_STREAM, 1, body)]));
  try {
    return await new Promise<StreamEnd>((resolve) => {
      let buffered = Buffer.alloc(0);
      socket.on("close", () => resolve("connection closed"));
      socket.on("data", (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 9) {
          const length = buffered.readUIntBE(0, 3);
          if (buffered.length < 9 + length) break;
          const [type, flags, stream] = [buffered[3]!, buffered[4]!, buffered.readUInt32BE(5) & 0x7fffffff];
          buffered = buffered.subarray(9 + length);
          if (type === SETTINGS && (flags & ACK) === 0) socket.write(frame(SETTINGS, ACK, 0));
          else if (type === GOAWAY) resolve("goaway");
          else if (stream === 1 && type === RST_STREAM) resolve("reset");
          else if (stream === 1 && (type === HEADERS || type === DATA) && (flags & END_STREAM) !== 0) resolve("answered");
        }
      });
    });
  } finally {
    socket.destroy();
  }
}
