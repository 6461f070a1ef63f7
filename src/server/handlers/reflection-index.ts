/**
 * What server reflection answers from: the descriptors @bufbuild/protobuf
 * already holds for the generated code, indexed by file name, symbol and
 * extension. Built once from the services a server has.
 *
 * Invariants:
 * - Every file reachable from a served service by imports is known, the
 *   well-known types (google/protobuf/timestamp.proto, …) included.
 * - `withDependencies` lists the asked file first, then every file it imports,
 *   directly or not, each once.
 * - A file's serialized FileDescriptorProto is computed once and never changes.
 */
import { toBinary, type DescEnum, type DescExtension, type DescFile, type DescMessage, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { descriptorWithSourceInfo } from "./reflection-source-info.js";

type Symbol = DescService | DescMessage | DescEnum | DescExtension;

export class ReflectionIndex {
  private readonly serviceNames: string[];
  private readonly files = new Map<string, DescFile>();
  private readonly symbols = new Map<string, DescFile>();
  /** extendee type name → extension number → declaring file */
  private readonly extensions = new Map<string, Map<number, DescFile>>();
  private readonly encoded = new Map<DescFile, Uint8Array>();

  /** @param services every service the server answers, reflection itself included */
  constructor(services: readonly DescService[]) {
    this.serviceNames = [...new Set(services.map((service) => service.typeName))].sort();
    for (const service of services) this.addFile(service.file);
  }

  /** Fully-qualified names of the served services, sorted. */
  services(): readonly string[] {
    return this.serviceNames;
  }

  /** A file by its path as imported, e.g. `tradingcore/v1/exit.proto`. */
  fileByName(name: string): DescFile | undefined {
    return this.files.get(name);
  }

  /**
   * The file that declares a fully-qualified symbol: a service, method,
   * message, field, enum, enum value or extension. A leading dot is ignored.
   */
  fileContainingSymbol(symbol: string): DescFile | undefined {
    return this.symbols.get(symbol.startsWith(".") ? symbol.slice(1) : symbol);
  }

  /** The file that declares extension `number` of message `extendee`. */
  fileContainingExtension(extendee: string, number: number): DescFile | undefined {
    return this.extensions.get(extendee)?.get(number);
  }

  /** Extension numbers known for a message, ascending; undefined when the message is unknown. */
  extensionNumbersOf(extendee: string): number[] | undefined {
    if (!this.symbols.has(extendee)) return undefined;
    return [...(this.extensions.get(extendee)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** `file`, then its transitive imports (breadth first), each once, skipping those `skip` names. */
  withDependencies(file: DescFile, skip: ReadonlySet<string> = new Set()): DescFile[] {
    const result = [file];
    const seen = new Set([file.proto.name]);
    const queue = [...file.dependencies];
    for (let next = queue.shift(); next; next = queue.shift()) {
      if (seen.has(next.proto.name)) continue;
      seen.add(next.proto.name);
      if (!skip.has(next.proto.name)) result.push(next);
      queue.push(...next.dependencies);
    }
    return result;
  }

  /** The serialized google.protobuf.FileDescriptorProto of a file, with its comments when proto/ has it. */
  encode(file: DescFile): Uint8Array {
    let bytes = this.encoded.get(file);
    if (!bytes)
      this.encoded.set(file, (bytes = descriptorWithSourceInfo(file.proto.name) ?? toBinary(FileDescriptorProtoSchema, file.proto)));
    return bytes;
  }

  private addFile(file: DescFile): void {
    if (this.files.has(file.proto.name)) return;
    this.files.set(file.proto.name, file);
    for (const service of file.services) {
      this.addSymbol(service, file);
      for (const method of service.methods) this.symbols.set(`${service.typeName}.${method.name}`, file);
    }
    for (const message of file.messages) this.addMessage(message, file);
    for (const enumeration of file.enums) this.addEnum(enumeration, file);
    for (const extension of file.extensions) this.addExtension(extension, file);
    for (const dependency of file.dependencies) this.addFile(dependency);
  }

  private addMessage(message: DescMessage, file: DescFile): void {
    this.addSymbol(message, file);
    for (const field of message.fields) this.symbols.set(`${message.typeName}.${field.name}`, file);
    for (const oneof of message.oneofs) this.symbols.set(`${message.typeName}.${oneof.name}`, file);
    for (const nested of message.nestedMessages) this.addMessage(nested, file);
    for (const nested of message.nestedEnums) this.addEnum(nested, file);
    for (const nested of message.nestedExtensions) this.addExtension(nested, file);
  }

  private addEnum(enumeration: DescEnum, file: DescFile): void {
    this.addSymbol(enumeration, file);
    // Enum values are scoped like siblings of their enum (protobuf's C++ scoping rule).
    const scope = enumeration.typeName.slice(0, Math.max(0, enumeration.typeName.lastIndexOf(".")));
    for (const value of enumeration.values) this.symbols.set(scope ? `${scope}.${value.name}` : value.name, file);
  }

  private addExtension(extension: DescExtension, file: DescFile): void {
    this.addSymbol(extension, file);
    let numbers = this.extensions.get(extension.extendee.typeName);
    if (!numbers) this.extensions.set(extension.extendee.typeName, (numbers = new Map()));
    numbers.set(extension.number, file);
  }

  private addSymbol(symbol: Symbol, file: DescFile): void {
    this.symbols.set(symbol.typeName, file);
  }
}
