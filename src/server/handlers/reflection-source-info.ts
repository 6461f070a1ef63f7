/**
 * The proto files' descriptors with their source info (comments and
 * locations), for server reflection: the descriptors embedded in the
 * generated code are stripped of it, so `grpcurl describe` would show no
 * comment. `npm run generate` writes the set from proto/ beside the code
 * generated from the same files.
 */
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { SOURCE_DESCRIPTOR_SET_BASE64 } from "../../../gen/source-descriptors.js";

let byName: Map<string, Uint8Array> | undefined;

/** The serialized FileDescriptorProto of `fileName` with source info, or undefined for a file not in proto/. */
export function descriptorWithSourceInfo(fileName: string): Uint8Array | undefined {
  if (!byName) {
    const set = fromBinary(FileDescriptorSetSchema, base64Decode(SOURCE_DESCRIPTOR_SET_BASE64));
    byName = new Map(
      set.file.filter((file) => file.sourceCodeInfo !== undefined).map((file) => [file.name, toBinary(FileDescriptorProtoSchema, file)]),
    );
  }
  return byName.get(fileName);
}
