/**
 * Serves the browser test's page: an HTML page and the bundle of
 * test/browser/page/client.ts (connect-web and the generated code), built
 * here with esbuild. Its origin differs from the server's (another port), so
 * every call from it is cross-origin, as a web app's would be.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export interface PageServer {
  /** `http://127.0.0.1:port`, the page's origin. */
  readonly origin: string;
  close(): Promise<void>;
}

async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL("../page/client.ts", import.meta.url))],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>tradingcore from a browser</title>
<script type="module" src="/client.js"></script></head><body>tradingcore</body></html>`;

export async function startPageServer(): Promise<PageServer> {
  const script = await bundle();
  const server = http.createServer((request, response) => {
    if (request.url === "/client.js") {
      response.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(script);
    } else if (request.url === "/") {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
