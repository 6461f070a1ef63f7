/**
 * A connect HandlerContext over one @grpc/grpc-js server call, so handlers
 * written as connect ServiceImpls run unchanged on the grpc-js engine.
 *
 * Everything is built on first use: a unary call whose handler never looks
 * at its signal or headers allocates no AbortController and no Headers.
 * Response headers a handler sets are sent as trailing metadata (grpc-js
 * sends initial metadata with the first message), and response trailers too.
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { createContextValues, type ContextValues, type HandlerContext } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import type { CallHeaders } from "../../rpc/call-middleware.js";

type ServerCall =
  | grpc.ServerUnaryCall<unknown, unknown>
  | grpc.ServerReadableStream<unknown, unknown>
  | grpc.ServerWritableStream<unknown, unknown>;

/** A controller that aborts when the client cancels `call` (at once if it already has). */
export function abortedOnCancel(call: ServerCall): AbortController {
  const controller = new AbortController();
  if (call.cancelled) controller.abort(new Error("the call was cancelled"));
  else (call as grpc.ServerUnaryCall<unknown, unknown>).once("cancelled", () => controller.abort(new Error("the call was cancelled")));
  return controller;
}

export class GrpcJsHandlerContext implements HandlerContext {
  readonly service: DescService;
  readonly requestMethod = "POST";
  readonly protocolName = "grpc";
  private controller: AbortController | undefined;
  private headers: Headers | undefined;
  private responseHeaders: Headers | undefined;
  private responseTrailers: Headers | undefined;
  private contextValues: ContextValues | undefined;

  /** Request metadata as the call middleware reads it. */
  readonly callHeaders: CallHeaders;

  constructor(
    readonly method: DescMethod,
    private readonly call: ServerCall,
  ) {
    this.service = method.parent;
    this.callHeaders = {
      // Several values of one name are joined with ", ", as fetch Headers (the Connect engine) joins them,
      // so a check of a header sees the same text on both engines, duplicates included.
      get: (name) => {
        const values = call.metadata.get(name);
        if (values.length === 1) return typeof values[0] === "string" ? values[0] : undefined;
        const texts = values.filter((value): value is string => typeof value === "string");
        return texts.length === 0 ? undefined : texts.join(", ");
      },
    };
  }

  /** The caller's `address:port`. */
  get peer(): string {
    return this.call.getPeer();
  }

  /** Aborts when the client cancels, the deadline passes, or the call is finished. */
  get signal(): AbortSignal {
    return (this.controller ??= abortedOnCancel(this.call)).signal;
  }

  readonly timeoutMs = (): number | undefined => {
    const deadline = this.call.getDeadline();
    const at = deadline instanceof Date ? deadline.getTime() : deadline;
    return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
  };

  get requestHeader(): Headers {
    if (!this.headers) {
      this.headers = new Headers();
      for (const [name, value] of Object.entries(this.call.metadata.getMap())) {
        if (typeof value === "string") this.headers.append(name, value);
      }
    }
    return this.headers;
  }

  get responseHeader(): Headers {
    return (this.responseHeaders ??= new Headers());
  }

  get responseTrailer(): Headers {
    return (this.responseTrailers ??= new Headers());
  }

  get values(): ContextValues {
    return (this.contextValues ??= createContextValues());
  }

  get url(): string {
    return `/${this.method.parent.typeName}/${this.method.name}`;
  }

  /** Response headers and trailers the handler set, as trailing metadata; undefined when none. */
  trailerMetadata(): grpc.Metadata | undefined {
    if (!this.responseHeaders && !this.responseTrailers) return undefined;
    const metadata = new grpc.Metadata();
    for (const headers of [this.responseHeaders, this.responseTrailers])
      headers?.forEach((value, name) => {
        metadata.add(name, value);
      });
    return metadata;
  }

  /** The call is over: abort the signal (as connect does) so that anything tied to it lets go. */
  finish(): void {
    this.controller?.abort(new Error("the call is finished"));
  }
}
