/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha) for both engines,
 * answered from the descriptors the generated code already holds, so
 * `grpcurl list`, `describe` and JSON invocation and `buf curl` need no proto
 * files. One implementation serves both: @grpc/reflection and
 * grpc-health-check plug into a grpc-js server only, and read proto-loader
 * package definitions, which this project does not have.
 *
 * Guarantees, as grpc-go's reflection server behaves:
 * - Each request on the stream gets exactly one response, in order, echoing
 *   the request as `original_request`.
 * - A file answer carries the asked file first, then every file it imports
 *   not already sent on this stream (so a client can build descriptors).
 * - An unknown file, symbol or extension is an `error_response` with
 *   NOT_FOUND; the stream stays open.
 * - v1alpha is wire-identical to v1 and gets the same answers.
 */
import { create, fromBinary, toBinary, type DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import * as v1 from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { excerpt } from "../../domain/text-excerpt.js";
import { ReflectionIndex } from "./reflection-index.js";

/** gRPC status numbers used in error_response. */
const NOT_FOUND = 5;
const INVALID_ARGUMENT = 3;

/** The reflection services themselves, to be listed among the served ones. */
export const REFLECTION_SERVICES: readonly DescService[] = [v1.ServerReflection, v1alpha.ServerReflection];

/**
 * Both reflection services over `served` (the server's other services); the
 * reflection services list themselves too.
 */
export function reflectionServices(served: readonly DescService[]) {
  const index = new ReflectionIndex([...served, ...REFLECTION_SERVICES]);
  return [
    { service: v1.ServerReflection, handlers: reflectionV1Handlers(index) },
    { service: v1alpha.ServerReflection, handlers: reflectionV1alphaHandlers(index) },
  ] as const;
}

export function reflectionV1Handlers(index: ReflectionIndex): ServiceImpl<typeof v1.ServerReflection> {
  return {
    async *serverReflectionInfo(requests, context) {
      const sent = new Set<string>();
      yield* untilClientLeaves(context.signal, async function* () {
        for await (const request of requests) yield answer(index, request, sent);
      });
    },
  };
}

export function reflectionV1alphaHandlers(index: ReflectionIndex): ServiceImpl<typeof v1alpha.ServerReflection> {
  return {
    async *serverReflectionInfo(requests, context) {
      const sent = new Set<string>();
      yield* untilClientLeaves(context.signal, async function* () {
        for await (const request of requests) {
          const asV1 = fromBinary(v1.ServerReflectionRequestSchema, toBinary(v1alpha.ServerReflectionRequestSchema, request));
          const response = answer(index, asV1, sent);
          yield fromBinary(v1alpha.ServerReflectionResponseSchema, toBinary(v1.ServerReflectionResponseSchema, response));
        }
      });
    },
  };
}

/**
 * Clients such as grpcurl drop the connection instead of half-closing the
 * stream when done: that ends the conversation, it is not a server failure.
 */
async function* untilClientLeaves<T>(signal: AbortSignal, conversation: () => AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield* conversation();
  } catch (reason) {
    if (!signal.aborted) throw reason;
  }
}

/** The one response to one request; records in `sent` the files it carries. */
export function answer(index: ReflectionIndex, request: v1.ServerReflectionRequest, sent: Set<string>): v1.ServerReflectionResponse {
  const reply = (messageResponse: v1.ServerReflectionResponse["messageResponse"]) =>
    create(v1.ServerReflectionResponseSchema, { validHost: request.host, originalRequest: request, messageResponse });
  const notFound = (what: string) =>
    reply({ case: "errorResponse", value: create(v1.ErrorResponseSchema, { errorCode: NOT_FOUND, errorMessage: `${what} not found` }) });
  const files = (file: ReturnType<ReflectionIndex["fileByName"]>, what: string) => {
    if (!file) return notFound(what);
    const carried = index.withDependencies(file, sent);
    for (const each of carried) sent.add(each.proto.name);
    const fileDescriptorProto = carried.map((each) => index.encode(each));
    return reply({ case: "fileDescriptorResponse", value: create(v1.FileDescriptorResponseSchema, { fileDescriptorProto }) });
  };

  const { messageRequest } = request;
  switch (messageRequest.case) {
    case "listServices":
      return reply({
        case: "listServicesResponse",
        value: create(v1.ListServiceResponseSchema, {
          service: index.services().map((name) => create(v1.ServiceResponseSchema, { name })),
        }),
      });
    case "fileByFilename":
      return files(index.fileByName(messageRequest.value), `file ${excerpt(messageRequest.value, 128)}`);
    case "fileContainingSymbol":
      return files(index.fileContainingSymbol(messageRequest.value), `symbol ${excerpt(messageRequest.value, 128)}`);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = messageRequest.value;
      return files(
        index.fileContainingExtension(containingType, extensionNumber),
        `extension ${extensionNumber} of ${excerpt(containingType, 128)}`,
      );
    }
    case "allExtensionNumbersOfType": {
      const numbers = index.extensionNumbersOf(messageRequest.value);
      if (!numbers) return notFound(`type ${excerpt(messageRequest.value, 128)}`);
      return reply({
        case: "allExtensionNumbersResponse",
        value: create(v1.ExtensionNumberResponseSchema, { baseTypeName: messageRequest.value, extensionNumber: numbers }),
      });
    }
    default:
      return reply({
        case: "errorResponse",
        value: create(v1.ErrorResponseSchema, { errorCode: INVALID_ARGUMENT, errorMessage: "the request names no known message_request" }),
      });
  }
}
