import { create, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { Health } from "../../../../gen/grpc/health/v1/health_pb.js";
import { ServerReflectionRequestSchema, type ServerReflectionResponse } from "../../../../gen/grpc/reflection/v1/reflection_pb.js";
import { ExitService } from "../../../../gen/tradingcore/v1/exit_pb.js";
import { TickService } from "../../../../gen/tradingcore/v1/tick_pb.js";
import { ReflectionIndex } from "../../../../src/server/handlers/reflection-index.js";
import { REFLECTION_SERVICES, answer } from "../../../../src/server/handlers/reflection-service.js";

const index = new ReflectionIndex([ExitService, TickService, Health, ...REFLECTION_SERVICES]);
const ask = (request: MessageInitShape<typeof ServerReflectionRequestSchema>, sent = new Set<string>()) =>
  answer(index, create(ServerReflectionRequestSchema, { host: "localhost", ...request }), sent);

function fileNames(response: ServerReflectionResponse): string[] {
  if (response.messageResponse.case !== "fileDescriptorResponse") throw new Error(`expected files, got ${response.messageResponse.case}`);
  return response.messageResponse.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name);
}

describe("Server reflection over the generated descriptors", () => {
  it("lists every served service, reflection and health included", () => {
    const response = ask({ messageRequest: { case: "listServices", value: "" } });
    expect(response.messageResponse.case).toBe("listServicesResponse");
    const names = response.messageResponse.case === "listServicesResponse" ? response.messageResponse.value.service.map((s) => s.name) : [];
    expect(names).toEqual([
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
      "tradingcore.v1.ExitService",
      "tradingcore.v1.TickService",
    ]);
  });

  it("answers a service symbol with its file first, then every import down to the well-known types", () => {
    const names = fileNames(ask({ messageRequest: { case: "fileContainingSymbol", value: "tradingcore.v1.ExitService" } }));
    expect(names[0]).toBe("tradingcore/v1/exit.proto");
    expect(new Set(names)).toEqual(
      new Set([
        "tradingcore/v1/exit.proto",
        "tradingcore/v1/common.proto",
        "tradingcore/v1/protection.proto",
        "google/protobuf/timestamp.proto",
        "google/protobuf/duration.proto",
      ]),
    );
  });

  it("finds methods, nested types, fields and enum values by their full names", () => {
    for (const symbol of [
      "tradingcore.v1.ExitService.ExecuteExit",
      "tradingcore.v1.Tracker",
      "tradingcore.v1.Tracker.order_no",
      "tradingcore.v1.EXIT_STATUS_EXITED",
      ".tradingcore.v1.ExitResult",
    ]) {
      expect(fileNames(ask({ messageRequest: { case: "fileContainingSymbol", value: symbol } })).length).toBeGreaterThan(0);
    }
  });

  it("answers a file by name with the descriptor protoc would produce, dependencies named", () => {
    const response = ask({ messageRequest: { case: "fileByFilename", value: "tradingcore/v1/exit.proto" } });
    if (response.messageResponse.case !== "fileDescriptorResponse") throw new Error("expected files");
    const exit = fromBinary(FileDescriptorProtoSchema, response.messageResponse.value.fileDescriptorProto[0]!);
    expect(exit.package).toBe("tradingcore.v1");
    expect(exit.dependency).toEqual(["google/protobuf/timestamp.proto", "tradingcore/v1/common.proto", "tradingcore/v1/protection.proto"]);
    expect(exit.service[0]?.method.map((m) => m.name)).toContain("ExecuteExit");
  });

  it("does not repeat on one stream the imports it already sent, but always sends the asked file", () => {
    const sent = new Set<string>();
    ask({ messageRequest: { case: "fileContainingSymbol", value: "tradingcore.v1.ExitService" } }, sent);
    expect(fileNames(ask({ messageRequest: { case: "fileContainingSymbol", value: "tradingcore.v1.TickService" } }, sent))).toEqual([
      "tradingcore/v1/tick.proto",
    ]);
    expect(fileNames(ask({ messageRequest: { case: "fileByFilename", value: "tradingcore/v1/common.proto" } }, sent))).toEqual([
      "tradingcore/v1/common.proto",
    ]);
  });

  it("answers NOT_FOUND for an unknown symbol or file, echoing the request", () => {
    for (const messageRequest of [
      { case: "fileContainingSymbol" as const, value: "tradingcore.v1.Nope" },
      { case: "fileByFilename" as const, value: "nope.proto" },
      { case: "allExtensionNumbersOfType" as const, value: "tradingcore.v1.Nope" },
    ]) {
      const response = ask({ messageRequest });
      expect(response.messageResponse.case).toBe("errorResponse");
      expect(response.messageResponse.case === "errorResponse" && response.messageResponse.value.errorCode).toBe(5);
      expect(response.originalRequest?.messageRequest).toEqual(messageRequest);
      expect(response.validHost).toBe("localhost");
    }
  });

  it("answers no extension numbers for a known message that has none", () => {
    const response = ask({ messageRequest: { case: "allExtensionNumbersOfType", value: "tradingcore.v1.Tracker" } });
    expect(response.messageResponse.case === "allExtensionNumbersResponse" && response.messageResponse.value.extensionNumber).toEqual([]);
  });
});
