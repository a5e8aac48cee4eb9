/**
 * Serves the Hono app on the configured HTTP server:
 *
 * - `node` (the default): `@hono/node-server` on Deno's `node:http`. Long
 *   event streams cost far less memory here than on `Deno.serve` (in
 *   `BENCHMARKS.md`, 16 KB per idle stream against 65 KB; the bare servers
 *   13 KB against 59 KB), and event streams write straight to its
 *   responses (`api/sse_sink.ts`).
 * - `deno`: `Deno.serve`, for hosts that only offer it (Deno Deploy).
 *
 * On the node server, connections are guarded here, because Deno's
 * `node:http` honours neither `headersTimeout` nor `requestTimeout`, and
 * once the process runs out of file handles its listener stops accepting
 * for good (`listener_watchdog.ts` notices and listens again): a connection
 * past `maxConnections` (by default the process's file-handle limit less a
 * reserve) is closed at once; a client gets
 * `headersTimeoutMs` to send its request's headers, `requestTimeoutMs` for
 * the request, `keepAliveTimeoutMs` between requests. Event streams turn
 * their connection's timeout off (`api/sse_sink.ts`).
 *
 * @module
 */
import type { Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { watchListener } from "./listener_watchdog.ts";
import { logger } from "./logging/logging.ts";

const log = logger("http");

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
  /**
   * Stops accepting connections (idempotent); the open ones keep going
   * until `close()`.
   */
  stopAccepting(): void;
  /**
   * Stops accepting, waits for the requests in flight for at most `graceMs`
   * (5 s when omitted), then closes every connection.
   */
  close(graceMs?: number): Promise<void>;
  /** Open connections now (node server only; null on Deno.serve). */
  connections(): number | null;
}

/** What one client may hold of the node server. */
export interface ConnectionLimits {
  /** Open connections at most; null: the file-handle limit less a reserve. */
  maxConnections: number | null;
  /** Time to send a request's headers (slow-header clients are cut). */
  headersTimeoutMs: number;
  /** Time for a request without activity, once its headers are in. */
  requestTimeoutMs: number;
  /** Time an idle keep-alive connection is kept between requests. */
  keepAliveTimeoutMs: number;
}

/** Where and how to listen. */
export interface ServeOptions {
  kind: HttpServerKind;
  port: number;
  hostname: string;
  /** Guards of the node server; defaults when omitted. */
  limits?: ConnectionLimits;
}

/** The guards used when none are given. */
export const DEFAULT_LIMITS: ConnectionLimits = {
  maxConnections: null,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
};

/** File handles kept back from connections: the database, Redis, logs, models. */
const RESERVED_HANDLES = 64;

/** Connections a process may hold by default: its soft file-handle limit less a reserve. */
export function defaultMaxConnections(): number {
  let limit = 1024;
  try {
    const line = Deno.readTextFileSync("/proc/self/limits").match(/^Max open files\s+(\d+)/m);
    if (line) limit = Number(line[1]);
  } catch {
    // Not Linux, or not readable: assume the common default.
  }
  return Math.max(16, limit - RESERVED_HANDLES);
}

/** Starts serving `app`; resolves once listening. */
export async function serveApp(app: FetchHandler, options: ServeOptions): Promise<RunningServer> {
  return options.kind === "node"
    ? await serveOnNode(app, options)
    : await serveOnDeno(app, options);
}

/** How long closing waits for requests in flight before it cuts their connections, by default. */
const CLOSE_GRACE_MS = 5000;

async function serveOnNode(app: FetchHandler, options: ServeOptions): Promise<RunningServer> {
  const server = createAdaptorServer({
    fetch: (request, env) => app.fetch(request, env),
    // Keep the platform's Request and Response: other code in this process uses them.
    overrideGlobalObjects: false,
  }) as Server;
  const guard = guardConnections(server, options.limits ?? DEFAULT_LIMITS);
  // Responses still being written (the adapter writes the body after the
  // handler returns); event streams count too until they end.
  let inFlight = 0;
  let idle: (() => void) | undefined;
  server.on("request", (_request, response) => {
    inFlight++;
    response.once("close", () => {
      if (--inFlight === 0) idle?.();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const watchdog = watchListener(server, { hostname: options.hostname, port });
  let closed: Promise<void> | undefined;
  const stopAccepting = () => {
    if (closed) return;
    watchdog.stop();
    closed = new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url: urlOf(options.hostname, port),
    port,
    connections: guard.open,
    stopAccepting,
    async close(graceMs = CLOSE_GRACE_MS) {
      stopAccepting();
      // Deno's node:http does not close idle keep-alive connections on
      // close() (closeIdleConnections() has no effect: close() then waits
      // minutes for them). Once the requests in flight are answered, close
      // every connection; event streams were ended before.
      if (inFlight > 0) {
        await withinGrace(new Promise<void>((resolve) => (idle = resolve)), graceMs);
      }
      server.closeAllConnections();
      await closed;
    },
  };
}

async function serveOnDeno(app: FetchHandler, options: ServeOptions): Promise<RunningServer> {
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { port: options.port, hostname: options.hostname, onListen: resolve },
    (request, info) => app.fetch(request, { remoteAddr: info.remoteAddr }),
  );
  const address = await listening;
  let shutdown: Promise<void> | undefined;
  // shutdown() stops accepting at once, then waits for the requests in flight.
  const stopAccepting = () => void (shutdown ??= server.shutdown());
  return {
    url: urlOf(address.hostname, address.port),
    port: address.port,
    stopAccepting,
    // shutdown() waits for writes in progress, and a client that stopped
    // reading never lets one finish: give it the grace period, no more.
    close(graceMs = CLOSE_GRACE_MS) {
      stopAccepting();
      return withinGrace(shutdown!, graceMs);
    },
    connections: () => null,
  };
}

/**
 * Caps and times the node server's connections (see the module comment).
 * Errors of one connection or of the HTTP layer never reach the process.
 */
function guardConnections(server: Server, limits: ConnectionLimits): { open(): number } {
  const max = limits.maxConnections ?? defaultMaxConnections();
  let open = 0;
  // Each connection's deadline for its next request's headers.
  const deadlines = new WeakMap<Socket, ReturnType<typeof setTimeout>>();
  const expect = (socket: Socket, ms: number) => {
    clearTimeout(deadlines.get(socket));
    deadlines.set(socket, setTimeout(() => socket.destroy(), ms));
  };
  const cut = function (this: Socket) {
    this.destroy();
  };
  server.on("connection", (socket: Socket) => {
    socket.on("error", () => {}); // a reset or broken pipe ends that connection only
    if (open >= max) {
      // Closed on the spot, without an answer: writing one first (and
      // waiting for the client to take it) held a file handle per refused
      // connection, and under a flood Deno's listener stopped accepting
      // for good once the process ran out of them.
      socket.destroy();
      return;
    }
    open++;
    socket.once("close", () => {
      open--;
      clearTimeout(deadlines.get(socket));
    });
    // A deadline, not an idle timer: a client trickling one byte at a time
    // would reset an idle timer for ever.
    expect(socket, limits.headersTimeoutMs);
    socket.on("timeout", cut);
  });
  server.on("request", (request, response) => {
    clearTimeout(deadlines.get(request.socket));
    request.socket.setTimeout(limits.requestTimeoutMs); // idle: a slow upload that flows is fine
    response.once("finish", () => {
      const socket = response.socket;
      if (!socket) return;
      socket.setTimeout(limits.keepAliveTimeoutMs);
      expect(socket, limits.keepAliveTimeoutMs + limits.headersTimeoutMs);
    });
  });
  server.on("clientError", (_error, socket: Socket) => socket.destroy());
  server.on(
    "error",
    (error) => log.error("The HTTP server reported an error: {error}", { error }),
  );
  return { open: () => open };
}

/** Waits for `promise`, or for `graceMs`, whichever ends first. */
async function withinGrace(promise: Promise<void>, graceMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
  clearTimeout(timer);
}

/** The URL clients on this machine use; `0.0.0.0` is reached as `127.0.0.1`. */
function urlOf(hostname: string, port: number): string {
  const host = hostname === "0.0.0.0" ? "127.0.0.1" : hostname;
  return `http://${host}:${port}`;
}
