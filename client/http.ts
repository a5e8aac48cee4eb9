/**
 * HTTP for the terminal client, on `node:http`, counting what comes over
 * the wire: every response's status line, headers and body bytes as read
 * from the socket (chunked framing and compression included), which
 * `fetch` hides by decompressing. Requests ask for gzip; a gzipped answer
 * is inflated here with `node:zlib`. Polling requests share one kept-alive
 * connection; each event stream has a connection of its own.
 *
 * @module
 */
import http from "node:http";
import https from "node:https";
import zlib from "node:zlib";
import { pipeline, type Readable } from "node:stream";
import { ClientExit, EXIT } from "./exit_codes.ts";

/** Requests made and bytes received, as on the wire. */
export interface WireCount {
  requests: number;
  bytes: number;
  /** Responses that came gzipped. */
  gzipped?: number;
}

/** A JSON answer. */
export interface JsonAnswer {
  status: number;
  /** The parsed body; null when it was empty or not JSON. */
  body: unknown;
  /** `Date.now()` when the whole answer had arrived. */
  receivedAt: number;
}

/** An answer to an event stream request. */
export interface StreamAnswer {
  status: number;
  /** The decoded body, as text chunks in arrival order, until the server ends it. */
  chunks: AsyncIterable<string>;
  /** The whole body as text (for an error answer). */
  text(): Promise<string>;
  /** Ends the connection. */
  close(): void;
}

/** A client of one service. */
export interface HttpClient {
  /** The service's base URL. */
  readonly base: string;
  /** Sends a request and reads a JSON answer. */
  json(method: string, path: string, body?: unknown, count?: WireCount): Promise<JsonAnswer>;
  /** Opens an event stream, on a connection of its own. */
  stream(
    path: string,
    options?: { lastEventId?: string; count?: WireCount },
  ): Promise<StreamAnswer>;
  /** Closes the kept-alive connections. */
  close(): void;
}

/** The message of an API error body (`{"error": {"message": …}}`), or a fallback. */
export function errorMessage(body: unknown, fallback: string): string {
  const error = (body as { error?: { message?: unknown } } | null)?.error;
  return typeof error?.message === "string" ? error.message : fallback;
}

/** A client of the service at `base`, sending `token` as a bearer token when given. */
export function createHttpClient(base: string, token: string | null): HttpClient {
  const url = new URL(base);
  const transport = url.protocol === "https:" ? https : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets: 1 });
  const prefix = url.pathname.replace(/\/+$/, "");

  function send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    count: WireCount | undefined,
    ownConnection: boolean,
  ): Promise<{ response: http.IncomingMessage; decoded: Readable; wireBytes: () => number }> {
    return new Promise((resolve, reject) => {
      const request = transport.request({
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port || undefined,
        path: prefix + path,
        method,
        agent: ownConnection ? false : agent,
        headers: {
          "Accept-Encoding": "gzip",
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : {
            "Content-Type": "application/json",
            "Content-Length": String(new TextEncoder().encode(body).byteLength),
          }),
          ...headers,
        },
      });
      let start = 0;
      let counted = 0;
      request.on("socket", (socket) => (start = socket.bytesRead ?? 0));
      const wireBytes = () => {
        const now = (request.socket?.bytesRead ?? start) - start;
        if (count && now > counted) count.bytes += now - counted;
        counted = Math.max(counted, now);
        return counted;
      };
      request.on("error", (error) => {
        reject(
          new ClientExit(
            EXIT.unreachable,
            `Cannot reach the server at ${base} (${error.message}). Is it running? Start it with deno task dev, or give --url.`,
          ),
        );
      });
      request.on("response", (response) => {
        if (count) count.requests++;
        response.on("end", wireBytes);
        response.on("close", wireBytes);
        const gzip = /\bgzip\b/i.test(String(response.headers["content-encoding"] ?? ""));
        if (count && gzip) count.gzipped = (count.gzipped ?? 0) + 1;
        // pipeline, not pipe: a connection that drops, or that the client
        // closes, must end the inflated stream too, or its reader waits forever.
        const decoded: Readable = gzip
          ? pipeline(response, zlib.createGunzip(), () => {})
          : response;
        resolve({ response, decoded, wireBytes });
      });
      request.end(body);
    });
  }

  async function readAll(decoded: Readable): Promise<string> {
    const parts: Uint8Array[] = [];
    for await (const chunk of decoded) parts.push(chunk as Uint8Array);
    return new TextDecoder().decode(concat(parts));
  }

  return {
    base,
    async json(method, path, body, count) {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const { response, decoded, wireBytes } = await send(
        method,
        path,
        { Accept: "application/json" },
        text,
        count,
        false,
      );
      const raw = await readAll(decoded);
      wireBytes();
      let parsed: unknown = null;
      try {
        parsed = raw ? JSON.parse(raw) : null;
      } catch { /* not JSON: left null */ }
      return { status: response.statusCode ?? 0, body: parsed, receivedAt: Date.now() };
    },
    async stream(path, options = {}) {
      const headers: Record<string, string> = { Accept: "text/event-stream" };
      if (options.lastEventId) headers["Last-Event-ID"] = options.lastEventId;
      const { response, decoded, wireBytes } = await send(
        "GET",
        path,
        headers,
        undefined,
        options.count,
        true,
      );
      const close = () => {
        wireBytes();
        response.destroy();
      };
      async function* chunks(): AsyncGenerator<string> {
        const decoder = new TextDecoder();
        try {
          for await (const chunk of decoded) {
            wireBytes();
            yield decoder.decode(chunk as Uint8Array, { stream: true });
          }
        } catch {
          // A dropped connection ends the chunks; the caller resumes.
        } finally {
          wireBytes();
        }
      }
      return {
        status: response.statusCode ?? 0,
        chunks: chunks(),
        text: async () => {
          const text = await readAll(decoded).catch(() => "");
          wireBytes();
          return text;
        },
        close,
      };
    },
    close() {
      agent.destroy();
    },
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.byteLength;
  }
  return all;
}
