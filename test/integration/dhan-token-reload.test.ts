/**
 * tradingcore as a process with the Dhan router reading its token from a
 * file: SIGHUP re-reads it, without a restart, and the token never reaches
 * the log.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";

describe("the Dhan token file of a running tradingcore", () => {
  const dir = mkdtempSync(join(tmpdir(), "tradingcore-token-"));
  const file = join(dir, "dhan-token");
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  it("is read again on SIGHUP, the process serving on, and neither token is logged", async () => {
    writeFileSync(file, "first-secret-token\n");
    server = await startServerProcess(["--engine", "grpc-js"], {
      TRADINGCORE_ROUTER: "dhan",
      TRADINGCORE_DHAN_BASE_URL: "http://127.0.0.1:9",
      TRADINGCORE_DHAN_CLIENT_ID: "1000000001",
      TRADINGCORE_DHAN_ACCESS_TOKEN_FILE: file,
      TRADINGCORE_LOG_LEVEL: "info",
    });
    const messages = () => server!.lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages()).toContain("Dhan access token loaded");
    writeFileSync(file, "second-secret-token\n");
    server.child.kill("SIGHUP");
    await vi.waitFor(() => expect(messages().some((message) => /^Dhan access token reloaded.*\(SIGHUP\)$/.test(message))).toBe(true), {
      timeout: 15_000,
      interval: 50,
    });
    expect(server.child.exitCode).toBeNull();
    const log = server.lines.join("\n");
    expect(log).not.toContain("first-secret-token");
    expect(log).not.toContain("second-secret-token");
  }, 60_000);
});
