/**
 * gRPC calls whose request is raw bytes, not a message: for input no
 * well-behaved client can build (invalid UTF-8, bytes that are not protobuf).
 * Answers are decoded with the generated schema; a failed call rejects with
 * the grpc-js ServiceError (code, details).
 */
import { type DescMessage, type DescMethod, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";

export class RawGrpcClient {
  private readonly client: grpc.Client;

  constructor(address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure());
  }

  /** A unary or server-streaming call with `request` as the message bytes; resolves with every answer. */
  call<M extends DescMethod>(method: M, request: Uint8Array): Promise<MessageShape<M["output"]>[]> {
    const path = `/${method.parent.typeName}/${method.name}`;
    const decode = (bytes: Buffer) => fromBinary(method.output, bytes) as MessageShape<M["output"]>;
    const deadline = Date.now() + 30_000;
    return new Promise((resolve, reject) => {
      if (method.methodKind === "unary") {
        this.client.makeUnaryRequest(
          path,
          (bytes: Uint8Array) => Buffer.from(bytes),
          decode,
          request,
          { deadline },
          (error, answer) => (error ? reject(error) : resolve([answer!])),
        );
        return;
      }
      if (method.methodKind === "server_streaming") {
        const answers: MessageShape<M["output"]>[] = [];
        const stream = this.client.makeServerStreamRequest(path, (bytes: Uint8Array) => Buffer.from(bytes), decode, request, { deadline });
        stream.on("data", (answer: MessageShape<M["output"]>) => answers.push(answer));
        stream.on("error", reject);
        stream.on("end", () => resolve(answers));
        return;
      }
      const stream = this.client.makeClientStreamRequest(
        path,
        (bytes: Uint8Array) => Buffer.from(bytes),
        decode,
        { deadline },
        (error, answer) => (error ? reject(error) : resolve([answer!])),
      );
      stream.write(request);
      stream.end();
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Invalid UTF-8 sequences: a byte that never starts one, a lone continuation, overlong, a surrogate, truncated. */
export const INVALID_UTF8 = [[0xff], [0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]] as const;

/**
 * The binary encoding of `message` with the bytes of `marker` (ASCII, found
 * once in the encoding) replaced by `invalid`, padded to the marker's length
 * with more of it, so every length prefix stays right.
 */
export function withBytesReplaced<D extends DescMessage>(
  schema: D,
  message: MessageShape<D>,
  marker: string,
  invalid: readonly number[],
): Uint8Array {
  const bytes = toBinary(schema, message);
  const needle = Buffer.from(marker, "ascii");
  const at = Buffer.from(bytes).indexOf(needle);
  if (at < 0 || Buffer.from(bytes).indexOf(needle, at + 1) >= 0) throw new Error(`marker ${marker} must occur exactly once`);
  for (let index = 0; index < needle.length; index++) bytes[at + index] = invalid[index % invalid.length]!;
  return bytes;
}
