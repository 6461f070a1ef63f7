import { describe, expect, it } from "vitest";
import { createContextValues } from "@connectrpc/connect";
import { isTradingCoreError } from "../../../../src/domain/trading-core-error.js";
import { bearerAuthMiddleware, bearerTokenOf, MAX_AUTHORIZATION_CHARS } from "../../../../src/server/middleware/bearer-auth-middleware.js";
import type { CallInfo } from "../../../../src/rpc/call-middleware.js";

const callWith = (authorization: string | undefined, service = "tradingcore.v1.ExitService"): CallInfo => ({
  service,
  method: "ExecuteExit",
  kind: "unary",
  engine: "grpc-js",
  protocol: "grpc",
  headers: { get: (name) => (name === "authorization" ? authorization : undefined) },
  peer: "127.0.0.1:1",
  signal: new AbortController().signal,
  values: createContextValues(),
});

async function outcome(middleware: ReturnType<typeof bearerAuthMiddleware>, call: CallInfo): Promise<string> {
  let ran = false;
  try {
    await middleware(call, async () => {
      ran = true;
    });
    return ran ? "ran" : "not run";
  } catch (error) {
    return isTradingCoreError(error, "unauthenticated") ? `unauthenticated: ${error.message}` : `other: ${String(error)}`;
  }
}

describe("bearerAuthMiddleware", () => {
  const auth = bearerAuthMiddleware({ token: "s3cret-token", openServices: ["grpc.health.v1.Health"] });

  it("runs the call with the exact token", async () => {
    expect(await outcome(auth, callWith("Bearer s3cret-token"))).toBe("ran");
    expect(await outcome(auth, callWith("bearer s3cret-token"))).toBe("ran");
  });

  it("refuses a missing, wrong or differently long token without echoing either token", async () => {
    for (const header of [undefined, "", "Bearer s3cret-tokeN", "Bearer s3cret", "Bearer s3cret-token-and-more", "Token s3cret-token"]) {
      const answer = await outcome(auth, callWith(header));
      expect(answer).toMatch(/^unauthenticated: /);
      expect(answer).not.toContain("s3cret");
    }
  });

  it("runs calls to open services without a token", async () => {
    expect(await outcome(auth, callWith(undefined, "grpc.health.v1.Health"))).toBe("ran");
  });

  it("cannot be built with an empty token", () => {
    expect(() => bearerAuthMiddleware({ token: "" })).toThrow(/non-empty/);
  });

  it("reads the token of an authorization header", () => {
    expect(bearerTokenOf("Bearer  abc ")).toBe("abc");
    expect(bearerTokenOf("  BEARER   abc def  ")).toBe("abc def");
    expect(bearerTokenOf("Bearer\tabc")).toBeUndefined();
    expect(bearerTokenOf("Bearer abc\t")).toBeUndefined();
    expect(bearerTokenOf("Bearer abc\u00a0")).toBeUndefined();
    expect(bearerTokenOf("Basic abc")).toBeUndefined();
    expect(bearerTokenOf("Bearerabc")).toBeUndefined();
    expect(bearerTokenOf("Bearer ")).toBeUndefined();
    expect(bearerTokenOf("Bearer \t  ")).toBeUndefined();
    expect(bearerTokenOf(undefined)).toBeUndefined();
  });

  it("reads a header of whitespace padding up to the bound the same way", () => {
    const padding = " ".repeat(MAX_AUTHORIZATION_CHARS - "Bearer a".length - 1);
    expect(bearerTokenOf(`Bearer a${padding}b`)).toBe(`a${padding}b`);
    expect(bearerTokenOf(`Bearer${padding}a`)).toBe("a");
  });

  it("refuses a header longer than the bound for its length, whatever it holds", async () => {
    const header = `Bearer s3cret-token${" ".repeat(MAX_AUTHORIZATION_CHARS)}`;
    expect(await outcome(auth, callWith(header))).toBe(
      `unauthenticated: the authorization header is longer than ${MAX_AUTHORIZATION_CHARS} characters`,
    );
  });

  it("refuses two authorization values joined, even when one of them carries the token", async () => {
    expect(await outcome(auth, callWith("Bearer s3cret-token, Bearer s3cret-token"))).toMatch(/^unauthenticated: invalid bearer token/);
    expect(await outcome(auth, callWith("Bearer other, Bearer s3cret-token"))).toMatch(/^unauthenticated: /);
  });
});
