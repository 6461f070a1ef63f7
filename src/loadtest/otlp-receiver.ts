/**
 * A small OTLP/HTTP receiver: what the load test points the server's
 * `OTEL_EXPORTER_OTLP_ENDPOINT` at, to see where the time went per span.
 *
 * - POST /v1/traces, binary protobuf or JSON, gzip or not: spans are decoded
 *   and kept (at most `maxSpans`; more are counted in `dropped`).
 * - POST /v1/metrics and /v1/logs are accepted and discarded, so a server
 *   exporting everything to one endpoint gets no errors.
 * - Listens on loopback by default; a body over `maxBodyBytes` is refused (413).
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { decodeTraceRequest, decodeTraceRequestJson, type ReceivedSpan } from "./otlp-span-decoder.js";

export interface OtlpReceiverOptions {
  readonly host?: string;
  readonly port?: number;
  readonly maxSpans?: number;
  readonly maxBodyBytes?: number;
  /** False: answer without decoding (a cheap sink for benchmarks). Default true. */
  readonly decode?: boolean;
}

export interface OtlpReceiver {
  /** Base URL for `OTEL_EXPORTER_OTLP_ENDPOINT`, e.g. `http://127.0.0.1:4318`. */
  readonly endpoint: string;
  readonly spans: readonly ReceivedSpan[];
  /** Spans received beyond `maxSpans`, not kept. */
  readonly dropped: number;
  /** Export requests that could not be decoded. */
  readonly malformed: number;
  /** Resolves when `predicate` holds for the spans received, or after `timeoutMs` (then false). */
  waitFor(predicate: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const maxSpans = options.maxSpans ?? 2_000_000;
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
  const spans: ReceivedSpan[] = [];
  let dropped = 0;
  let malformed = 0;
  const listeners = new Set<() => void>();

  const server = http.createServer((request, response) => {
    const path = (request.url ?? "").split("?")[0];
    if (request.method !== "POST" || !["/v1/traces", "/v1/metrics", "/v1/logs"].includes(path ?? "")) {
      response.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        response.writeHead(413).end();
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => {
      if (response.writableEnded) return;
      const json = (request.headers["content-type"] ?? "").includes("json");
      if (path === "/v1/traces" && options.decode !== false) {
        try {
          let body = Buffer.concat(chunks);
          if (request.headers["content-encoding"] === "gzip") body = gunzipSync(body);
          const received = json ? decodeTraceRequestJson(body.toString("utf8")) : decodeTraceRequest(body);
          const room = Math.max(0, maxSpans - spans.length);
          for (const span of received.slice(0, room)) spans.push(span);
          dropped += Math.max(0, received.length - room);
          for (const listener of listeners) listener();
        } catch {
          malformed++;
          response.writeHead(400, { "content-type": "text/plain" }).end("malformed OTLP export request");
          return;
        }
      }
      response.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" }).end(json ? "{}" : undefined);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    endpoint: `http://${host}:${address.port}`,
    spans,
    get dropped() {
      return dropped;
    },
    get malformed() {
      return malformed;
    },
    waitFor(predicate, timeoutMs) {
      if (predicate(spans)) return Promise.resolve(true);
      return new Promise((resolve) => {
        const check = () => {
          if (!predicate(spans)) return;
          finish(true);
        };
        const finish = (result: boolean) => {
          clearTimeout(timer);
          listeners.delete(check);
          resolve(result);
        };
        const timer = setTimeout(() => finish(false), timeoutMs);
        listeners.add(check);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
