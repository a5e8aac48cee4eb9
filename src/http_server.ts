/**
 * Serves the Hono app on the configured HTTP server:
 *
 * - `node` (the default): `@hono/node-server` on Deno's `node:http`. Long
 *   event streams cost far less memory here than on `Deno.serve` (about
 *   14 KB per idle connection against 59 KB, measured in `BENCHMARKS.md`),
 *   and event streams write straight to its responses (`api/sse_sink.ts`).
 * - `deno`: `Deno.serve`, for hosts that only offer it (Deno Deploy).
 *
 * @module
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";

/** Which HTTP server runs the app. */
export type HttpServerKind = "node" | "deno";

/** Something that answers requests, such as a Hono app. */
export interface FetchHandler {
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
}

/** A listening server. */
export interface RunningServer {
  /** Base URL, such as `http://127.0.0.1:8000`. */
  url: string;
  port: number;
  /** Stops accepting, closes idle connections and waits for the rest. */
  close(): Promise<void>;
}

/** Where and how to listen. */
export interface ServeOptions {
  kind: HttpServerKind;
  port: number;
  hostname: string;
}

/** Starts serving `app`; resolves once listening. */
export async function serveApp(app: FetchHandler, options: ServeOptions): Promise<RunningServer> {
  return options.kind === "node"
    ? await serveOnNode(app, options)
    : await serveOnDeno(app, options);
}

/** How long closing waits for requests in flight before it cuts their connections. */
const CLOSE_GRACE_MS = 5000;

async function serveOnNode(app: FetchHandler, options: ServeOptions): Promise<RunningServer> {
  let inFlight = 0;
  const server = createAdaptorServer({
    fetch: async (request, env) => {
      inFlight++;
      try {
        return await app.fetch(request, env);
      } finally {
        inFlight--;
      }
    },
    // Keep the platform's Request and Response: other code in this process uses them.
    overrideGlobalObjects: false,
  }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: urlOf(options.hostname, port),
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Deno's node:http does not close idle keep-alive connections on
      // close() (closeIdleConnections() has no effect: close() then waits
      // minutes for them). Once the requests in flight are answered, close
      // every connection; event streams were ended before.
      const until = Date.now() + CLOSE_GRACE_MS;
      while (inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      server.closeAllConnections();
      await closed;
    },
  };
}

async function serveOnDeno(app: FetchHandler, options: ServeOptions): Promise<RunningServer> {
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { port: options.port, hostname: options.hostname, onListen: resolve },
    (request) => app.fetch(request),
  );
  const address = await listening;
  return {
    url: urlOf(address.hostname, address.port),
    port: address.port,
    close: () => server.shutdown(),
  };
}

/** The URL clients on this machine use; `0.0.0.0` is reached as `127.0.0.1`. */
function urlOf(hostname: string, port: number): string {
  const host = hostname === "0.0.0.0" ? "127.0.0.1" : hostname;
  return `http://${host}:${port}`;
}
