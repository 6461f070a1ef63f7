/**
 * A small OTLP/gRPC receiver (the collector's TraceService and MetricsService
 * on grpc-js), for testing `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`. Export requests
 * stay protobuf bytes: traces are decoded with the load test's own decoder,
 * metric exports only counted. Loopback, port 0.
 */
import * as grpc from "@grpc/grpc-js";
import { decodeTraceRequest, type ReceivedSpan } from "../../src/loadtest/otlp-span-decoder.js";

export interface OtlpGrpcReceiver {
  /** `http://127.0.0.1:PORT`, for `OTEL_EXPORTER_OTLP_ENDPOINT` with the grpc protocol. */
  readonly endpoint: string;
  readonly spans: readonly ReceivedSpan[];
  /** Metric export requests received. */
  readonly metricExports: number;
  /** Resolves once `predicate` holds, checked after every export request. */
  until(predicate: () => boolean): Promise<void>;
  close(): Promise<void>;
}

const bytes = {
  requestSerialize: (value: Buffer) => value,
  requestDeserialize: (value: Buffer) => value,
  responseSerialize: (value: Buffer) => value,
  responseDeserialize: (value: Buffer) => value,
};

function exportMethod(path: string): grpc.MethodDefinition<Buffer, Buffer> {
  return { path, requestStream: false, responseStream: false, originalName: "Export", ...bytes };
}

export async function startOtlpGrpcReceiver(): Promise<OtlpGrpcReceiver> {
  const spans: ReceivedSpan[] = [];
  let metricExports = 0;
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of waiters) waiter();
  };
  const server = new grpc.Server();
  // An empty Export*ServiceResponse is zero bytes: a full success.
  server.addService(
    { Export: exportMethod("/opentelemetry.proto.collector.trace.v1.TraceService/Export") },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        spans.push(...decodeTraceRequest(call.request));
        callback(null, Buffer.alloc(0));
        notify();
      },
    },
  );
  server.addService(
    { Export: exportMethod("/opentelemetry.proto.collector.metrics.v1.MetricsService/Export") },
    {
      Export: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        metricExports++;
        callback(null, Buffer.alloc(0));
        notify();
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    get metricExports() {
      return metricExports;
    },
    until(predicate) {
      if (predicate()) return Promise.resolve();
      return new Promise((resolve) => {
        const check = () => {
          if (!predicate()) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
