/**
 * Server reflection and health on the grpc-js engine, served by the
 * maintained packages (@grpc/reflection, grpc-health-check) rather than by
 * our own handlers, and still run inside the call middleware (auth, shutdown
 * gate, logging) like every other call.
 *
 * Guarantees:
 * - Reflection answers from the same descriptors as the Connect engine's:
 *   every file reachable from the served services, well-known types included.
 * - Health follows HealthState: every status change (NOT_SERVING during
 *   start-up recovery and shutdown) reaches Check and Watch at once.
 * - A call the middleware refuses gets the status error-codes.ts maps it to.
 */
import type { DescService } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { type ContextValues, createContextValues } from "@connectrpc/connect";
import type { PackageDefinition } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation, type ServingStatus as PackageServingStatus } from "grpc-health-check";
import type { CallInfo, CallMiddleware } from "./call-middleware.js";
import { runMiddleware } from "./call-middleware.js";
import { abortedOnCancel } from "./grpc-js-handler-context.js";
import { toConnectError } from "./error-codes.js";
import { ServingStatus, type HealthState } from "./health-state.js";
import { ReflectionIndex } from "./reflection-index.js";
import { REFLECTION_SERVICES } from "./reflection-service.js";

export interface PackagedServicesOptions {
  /** The services the engine serves with our own handlers (health among them is replaced here). */
  readonly served: readonly DescService[];
  readonly health: HealthState;
  /** Names whose health is tracked: "" (the server) and each served service. */
  readonly healthNames: readonly string[];
  readonly middleware: readonly CallMiddleware[];
}

/** Adds reflection (v1, v1alpha) and health to a grpc-js server, each call run inside the middleware. */
export function addPackagedServices(server: grpc.Server, options: PackagedServicesOptions): void {
  const through = throughMiddleware(server, options.middleware);
  new ReflectionService(packageDefinitionOf([...options.served, ...REFLECTION_SERVICES])).addToServer(through);
  const health = new HealthImplementation();
  for (const name of options.healthNames) {
    const follow = (status: ServingStatus | undefined) => health.setStatus(name, packageStatusOf(status));
    follow(options.health.statusOf(name));
    options.health.watch(name, follow);
  }
  health.addToServer(through);
}

/**
 * The shape @grpc/reflection reads: any record whose values carry
 * `fileDescriptorProtos` (serialized FileDescriptorProtos). One entry per file.
 */
function packageDefinitionOf(services: readonly DescService[]): PackageDefinition {
  const index = new ReflectionIndex(services);
  const definition: Record<string, { fileDescriptorProtos: Buffer[] }> = {};
  for (const service of services) {
    for (const file of index.withDependencies(service.file)) {
      definition[file.proto.name] ??= { fileDescriptorProtos: [Buffer.from(index.encode(file))] };
    }
  }
  return definition as unknown as PackageDefinition;
}

function packageStatusOf(status: ServingStatus | undefined): PackageServingStatus {
  if (status === ServingStatus.SERVING) return "SERVING";
  if (status === ServingStatus.NOT_SERVING) return "NOT_SERVING";
  return "UNKNOWN";
}

type AnyImplementation = (...args: unknown[]) => void;

/** A stand-in for `server` whose addService wraps every handler in the middleware. */
function throughMiddleware(server: grpc.Server, middleware: readonly CallMiddleware[]): Pick<grpc.Server, "addService"> {
  return {
    addService(definition: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation) {
      const wrapped: grpc.UntypedServiceImplementation = {};
      for (const [name, method] of Object.entries(definition)) {
        const handler = (implementation[name] ?? (method.originalName ? implementation[method.originalName] : undefined)) as AnyImplementation | undefined;
        if (handler) wrapped[name] = wrapHandler(method, handler, middleware) as grpc.UntypedHandleCall;
      }
      server.addService(definition, wrapped);
    },
  };
}

function wrapHandler(method: grpc.MethodDefinition<unknown, unknown>, handler: AnyImplementation, middleware: readonly CallMiddleware[]) {
  const [, service = "", name = ""] = /^\/([^/]+)\/([^/]+)$/.exec(method.path) ?? [];
  const kind: CallInfo["kind"] = method.requestStream
    ? method.responseStream ? "bidi_streaming" : "client_streaming"
    : method.responseStream ? "server_streaming" : "unary";
  // Signal and values are built on first use: a health check no middleware cancels allocates neither.
  const infoOf = (call: grpc.ServerUnaryCall<unknown, unknown>): CallInfo => {
    let controller: AbortController | undefined;
    let values: ContextValues | undefined;
    return {
      service,
      method: name,
      kind,
      engine: "grpc-js",
      protocol: "grpc",
      headers: { get: (header) => { const value = call.metadata.get(header)[0]; return typeof value === "string" ? value : undefined; } },
      get peer() {
        return call.getPeer();
      },
      get signal() {
        return (controller ??= abortedOnCancel(call)).signal;
      },
      get values() {
        return (values ??= createContextValues());
      },
    };
  };
  const statusOf = (reason: unknown): Partial<grpc.StatusObject> => {
    const error = toConnectError(reason);
    return { code: error.code as number as grpc.status, details: error.rawMessage };
  };

  if (!method.responseStream) {
    return (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      let answered = false;
      runMiddleware(middleware, infoOf(call), () =>
        new Promise<void>((resolve) =>
          handler(call, (...reply: Parameters<grpc.sendUnaryData<unknown>>) => {
            answered = true;
            callback(...reply);
            resolve();
          }),
        ),
      ).catch((reason: unknown) => {
        if (!answered) callback(statusOf(reason));
      });
    };
  }
  return (call: grpc.ServerWritableStream<unknown, unknown>) => {
    runMiddleware(middleware, infoOf(call), () =>
      new Promise<void>((resolve) => {
        for (const event of ["finish", "cancelled", "close", "error"]) call.once(event, () => resolve());
        handler(call);
      }),
    ).catch((reason: unknown) => {
      if (!call.cancelled && !call.writableEnded) call.emit("error", statusOf(reason));
    });
  };
}
