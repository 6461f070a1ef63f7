/**
 * Raw HTTP/2 and HTTP/1.1 requests to a server, below any gRPC library: for
 * headers a gRPC client refuses to send (a TAB in a value, duplicates, other
 * names), broken frames, and the Connect and gRPC-Web protocols.
 */
import * as http from "node:http";
import * as http2 from "node:http2";

export interface RawAnswer {
  /** The HTTP status. */
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Trailers (HTTP/2), empty when none came. */
  readonly trailers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  /** `grpc-status` from the trailers, or from the headers of a trailers-only answer; undefined when absent. */
  readonly grpcStatus: number | undefined;
}

/** A gRPC length-prefixed message: flag byte, 4-byte big-endian length, payload. */
export function grpcFrame(payload: Uint8Array = new Uint8Array(), options: { compressed?: boolean; declaredLength?: number } = {}): Buffer {
  const head = Buffer.alloc(5);
  head[0] = options.compressed ? 1 : 0;
  head.writeUInt32BE(options.declaredLength ?? payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** One request on `session` (which stays open); resolves when the stream closes. */
export function http2Request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body: Uint8Array = new Uint8Array(),
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ...headers });
    const chunks: Buffer[] = [];
    let responseHeaders: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader = {};
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on("response", (h) => (responseHeaders = h));
    stream.on("trailers", (t) => (trailers = t));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", reject);
    stream.on("close", () => {
      const status = Number(responseHeaders[":status"] ?? 0);
      const grpcStatus = trailers["grpc-status"] ?? responseHeaders["grpc-status"];
      resolve({
        status,
        headers: responseHeaders,
        trailers,
        body: Buffer.concat(chunks),
        grpcStatus: grpcStatus === undefined ? undefined : Number(grpcStatus),
      });
    });
    stream.end(body);
  });
}

/** Connects an h2c session to `host:port` (IPv4 loopback addresses). */
export async function connectHttp2(address: string): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`http://${address}`);
  await new Promise<void>((resolve, reject) => {
    session.once("connect", () => resolve());
    session.once("error", reject);
  });
  session.on("error", () => {});
  return session;
}

/** Closes a session and waits until it is gone. */
export function closeHttp2(session: http2.ClientHttp2Session): Promise<void> {
  if (session.closed || session.destroyed) return Promise.resolve();
  return new Promise((resolve) => session.close(() => resolve()));
}

/** An HTTP/1.1 POST (Connect unary, gRPC-Web over HTTP/1.1); `headers` may repeat a name through arrays. */
export function http1Request(
  address: string,
  path: string,
  headers: http.OutgoingHttpHeaders,
  body: Uint8Array = new Uint8Array(),
): Promise<RawAnswer> {
  const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
  return new Promise((resolve, reject) => {
    const request = http.request({ host, port, path, method: "POST", headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const status = response.headers["grpc-status"];
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          trailers: response.trailers,
          body: Buffer.concat(chunks),
          grpcStatus: status === undefined ? undefined : Number(status),
        });
      });
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(body);
  });
}
