/**
 * A typed promise/async-iterable client over @grpc/grpc-js for any generated
 * service: what tests, the load test and strategy-engine examples use.
 *
 *   const exits = createGrpcJsClient(ExitService, "127.0.0.1:50051");
 *   const { result } = await exits.executeExit({ orderNo: "A1", reason: "stop loss" });
 *
 * Failed calls reject with grpc-js's ServiceError (`code`, `details`).
 */
import { create, type DescMessage, type DescService, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import * as grpc from "@grpc/grpc-js";
import { grpcJsServiceDefinition } from "../rpc/grpc-js-definition.js";

export interface GrpcCallOptions {
  /** Request metadata, e.g. `{ authorization: "Bearer …", traceparent: "…" }`. */
  readonly metadata?: Record<string, string>;
  /** Call deadline in ms from now. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

type Unary<I extends DescMessage, O extends DescMessage> = (
  request: MessageInitShape<I>,
  options?: GrpcCallOptions,
) => Promise<MessageShape<O>>;
type ServerStreaming<I extends DescMessage, O extends DescMessage> = (
  request: MessageInitShape<I>,
  options?: GrpcCallOptions,
) => AsyncIterable<MessageShape<O>>;
type ClientStreaming<I extends DescMessage, O extends DescMessage> = (
  requests: Iterable<MessageInitShape<I>> | AsyncIterable<MessageInitShape<I>>,
  options?: GrpcCallOptions,
) => Promise<MessageShape<O>>;

export type GrpcJsClient<T extends GenServiceMethods> = {
  [K in keyof T]: T[K] extends { methodKind: "unary"; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? Unary<I, O>
    : T[K] extends { methodKind: "server_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
      ? ServerStreaming<I, O>
      : T[K] extends { methodKind: "client_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
        ? ClientStreaming<I, O>
        : never;
} & { close(): void };

export interface GrpcJsClientOptions {
  readonly credentials?: grpc.ChannelCredentials;
  readonly channelOptions?: grpc.ChannelOptions;
}

export function createGrpcJsClient<T extends GenServiceMethods>(
  service: GenService<T>,
  address: string,
  options: GrpcJsClientOptions = {},
): GrpcJsClient<T> {
  const Constructor = grpc.makeGenericClientConstructor(grpcJsServiceDefinition(service as DescService), service.typeName);
  const raw = new Constructor(
    address,
    options.credentials ?? grpc.credentials.createInsecure(),
    options.channelOptions,
  ) as unknown as Record<string, (...args: unknown[]) => unknown> & grpc.Client;
  const client: Record<string, unknown> = { close: () => raw.close() };
  for (const method of (service as DescService).methods) {
    const call = raw[method.localName]!.bind(raw);
    switch (method.methodKind) {
      case "unary":
        client[method.localName] = (request: Record<string, unknown>, callOptions: GrpcCallOptions = {}) =>
          new Promise((resolve, reject) => {
            const handle = call(
              create(method.input, request),
              metadataOf(callOptions),
              grpcOptionsOf(callOptions),
              (error: unknown, response: unknown) => (error ? reject(error) : resolve(response)),
            ) as grpc.ClientUnaryCall;
            cancelOnAbort(callOptions.signal, handle);
          });
        break;
      case "server_streaming":
        client[method.localName] = (request: Record<string, unknown>, callOptions: GrpcCallOptions = {}) => {
          const stream = call(
            create(method.input, request),
            metadataOf(callOptions),
            grpcOptionsOf(callOptions),
          ) as grpc.ClientReadableStream<unknown>;
          cancelOnAbort(callOptions.signal, stream);
          return stream;
        };
        break;
      case "client_streaming":
        client[method.localName] = (
          requests: Iterable<Record<string, unknown>> | AsyncIterable<Record<string, unknown>>,
          callOptions: GrpcCallOptions = {},
        ) =>
          new Promise((resolve, reject) => {
            const stream = call(metadataOf(callOptions), grpcOptionsOf(callOptions), (error: unknown, response: unknown) =>
              error ? reject(error) : resolve(response),
            ) as grpc.ClientWritableStream<unknown>;
            cancelOnAbort(callOptions.signal, stream);
            void writeAll(stream, requests, method.input).catch((error: unknown) => {
              stream.cancel();
              reject(error);
            });
          });
        break;
      default:
        client[method.localName] = () => {
          throw new Error(`${method.methodKind} methods are not supported by this client`);
        };
    }
  }
  return client as GrpcJsClient<T>;
}

async function writeAll(
  stream: grpc.ClientWritableStream<unknown>,
  requests: Iterable<Record<string, unknown>> | AsyncIterable<Record<string, unknown>>,
  schema: DescMessage,
) {
  for await (const request of requests) {
    if (!stream.write(create(schema, request))) await new Promise((resolve) => stream.once("drain", resolve));
  }
  stream.end();
}

function metadataOf(options: GrpcCallOptions): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
  return metadata;
}

function grpcOptionsOf(options: GrpcCallOptions): grpc.CallOptions {
  return options.timeoutMs === undefined ? {} : { deadline: Date.now() + options.timeoutMs };
}

function cancelOnAbort(signal: AbortSignal | undefined, call: { cancel(): void }): void {
  if (!signal) return;
  if (signal.aborted) call.cancel();
  else signal.addEventListener("abort", () => call.cancel(), { once: true });
}
