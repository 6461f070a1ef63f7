import { clone, equals, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { REFLECTION_SERVICES } from "../../../../src/server/handlers/reflection-service.js";
import { ReflectionIndex } from "../../../../src/server/handlers/reflection-index.js";
import { descriptorWithSourceInfo } from "../../../../src/server/handlers/reflection-source-info.js";
import { Health } from "../../../../gen/grpc/health/v1/health_pb.js";
import { ExitService } from "../../../../gen/tradingcore/v1/exit_pb.js";
import { TickService } from "../../../../gen/tradingcore/v1/tick_pb.js";

describe("the descriptors reflection serves for the project's proto files", () => {
  const index = new ReflectionIndex([ExitService, TickService, Health, ...REFLECTION_SERVICES]);
  const ours = ["tradingcore/v1/exit.proto", "tradingcore/v1/tick.proto", "tradingcore/v1/common.proto", "grpc/health/v1/health.proto"];

  it.each(ours)("carry the comments of %s", (name) => {
    const served = fromBinary(FileDescriptorProtoSchema, index.encode(index.fileByName(name)!));
    expect(served.sourceCodeInfo?.location.some((location) => location.leadingComments.trim() !== "")).toBe(true);
  });

  it.each(ours)("describe %s exactly as the generated code does, apart from the comments (npm run generate made both)", (name) => {
    const withSource = clone(FileDescriptorProtoSchema, fromBinary(FileDescriptorProtoSchema, descriptorWithSourceInfo(name)!));
    withSource.sourceCodeInfo = undefined;
    expect(equals(FileDescriptorProtoSchema, withSource, index.fileByName(name)!.proto)).toBe(true);
  });
});
