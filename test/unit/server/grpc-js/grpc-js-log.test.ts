import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { MAX_GRPC_JS_LINE_CHARS, redactGrpcJsLine, verbosityOf } from "../../../../src/server/grpc-js/grpc-js-log.js";

describe("redactGrpcJsLine", () => {
  it("drops what follows authorization or bearer, whichever comes first, in any case", () => {
    expect(redactGrpcJsLine("Failed to add metadata entry authorization: Bearer\tabc. For more", [])).toBe(
      "Failed to add metadata entry authorization [redacted]",
    );
    expect(redactGrpcJsLine("x-token: BEARER\tabc then Authorization: y", [])).toBe("x-token: BEARER [redacted]");
  });

  it("hides every configured secret wherever it is, before any cut", () => {
    expect(redactGrpcJsLine("Failed to add metadata entry x-key: s3cr3t\tand s3cr3t", ["s3cr3t"])).toBe(
      "Failed to add metadata entry x-key: [redacted]\tand [redacted]",
    );
    expect(redactGrpcJsLine(`${"a".repeat(MAX_GRPC_JS_LINE_CHARS - 3)}s3cr3t`, ["s3cr3t"])).not.toContain("s3c");
  });

  it("bounds a line whatever a caller sent", () => {
    const line = redactGrpcJsLine(`Failed to add metadata entry x-text: ${"y".repeat(100_000)}\t`, []);
    expect(line.length).toBe(MAX_GRPC_JS_LINE_CHARS + 1);
  });

  it("leaves a line with nothing to hide as it is", () => {
    expect(redactGrpcJsLine("Server constructed", ["s3cr3t"])).toBe("Server constructed");
  });
});

describe("verbosityOf", () => {
  it.each([
    ["trace", grpc.logVerbosity.DEBUG],
    ["debug", grpc.logVerbosity.DEBUG],
    ["info", grpc.logVerbosity.INFO],
    ["warn", grpc.logVerbosity.ERROR],
    ["error", grpc.logVerbosity.ERROR],
    ["fatal", grpc.logVerbosity.NONE],
    ["silent", grpc.logVerbosity.NONE],
  ])("maps --log-level %s to grpc-js verbosity %i", (level, verbosity) => {
    expect(verbosityOf(level)).toBe(verbosity);
  });
});
