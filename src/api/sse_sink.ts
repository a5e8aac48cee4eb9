/**
 * Where one event stream's frames go: straight to the connection when the
 * app runs on the Node-compatible HTTP server (`@hono/node-server` on
 * Deno's `node:http`), or into a bounded `ReadableStream` answered as the
 * response body on `Deno.serve` and in `app.fetch` tests.
 *
 * Why not `streamSSE`: Hono's helper wraps every stream in a
 * `TransformStream`, a writer and their closures, which the node server
 * then reads back chunk by chunk: about 20 KB per open stream, most of the
 * cost of 10,000 idle ones (`BENCHMARKS.md`). Writing whole, pre-encoded
 * SSE frames to the response is the same bytes on the wire with none of
 * that per-stream machinery.
 *
 * Backpressure: a sink reports when the client has more than
 * `maxBufferedBytes` unread (`full`), and `drained()` resolves once it has
 * taken some of them. The writer waits for that before writing more (so a
 * long replay goes out as fast as the client reads it, never faster), and
 * drops a client that makes no progress in time (`drop`).
 *
 * With `gzip` on, a client that accepts gzip gets the stream compressed,
 * each frame flushed as written (`sse_gzip.ts`); the limit then counts
 * compressed bytes.
 *
 * @module
 */
import type { Context } from "hono";
import type { HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { acceptsGzip, createGzipEncoder } from "./sse_gzip.ts";

/** One open event stream's output. */
export interface SseSink {
  /** The response to return from the handler. */
  readonly response: Response;
  /** False once closed, by either side. */
  readonly open: boolean;
  /** True while the client has more than the buffer limit unread. */
  readonly full: boolean;
  /** Writes one whole frame; ignored once closed. */
  write(frame: Uint8Array): void;
  /** Resolves once the client has taken some of what was buffered, or the sink closed. */
  drained(): Promise<void>;
  /** Ends the stream cleanly (idempotent). */
  end(): void;
  /** Cuts the connection of a client that stopped reading (idempotent). */
  drop(): void;
  /** Registers what to do once the stream is closed, by either side. */
  onClose(callback: () => void): void;
}

/** How a sink behaves. */
export interface SinkOptions {
  /** Response headers (the CORS headers set on the context are added). */
  headers: Record<string, string>;
  /** Unread bytes a client may hold before the sink counts as full. */
  maxBufferedBytes: number;
  /** Gzip the stream for clients that accept it (`sse_gzip.ts`). */
  gzip?: boolean;
}

/** Opens the sink for the stream this request answers. */
export function openSseSink(c: Context, options: SinkOptions): SseSink {
  const headers = new Headers(c.res.headers);
  for (const [name, value] of Object.entries(options.headers)) headers.set(name, value);
  // Hono's cors() adds Vary after the handler, too late for a response
  // written here: an origin-specific answer must say it varies.
  const origin = headers.get("Access-Control-Allow-Origin");
  const vary = origin && origin !== "*" ? ["Origin"] : [];
  const gzip = options.gzip === true && acceptsGzip(c.req.header("Accept-Encoding"));
  if (options.gzip) vary.push("Accept-Encoding");
  if (vary.length) headers.set("Vary", vary.join(", "));
  if (gzip) headers.set("Content-Encoding", "gzip");
  const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
  const sink = outgoing ? nodeSink(outgoing, headers, options) : webSink(headers, options);
  return gzip ? gzipSink(sink) : sink;
}

/**
 * The state both sinks share: open or closed (close callbacks run once),
 * and the one writer waiting for a drain, woken by a drain or the close.
 */
function sinkState() {
  let open = true;
  let waiter: (() => void) | undefined;
  const callbacks: (() => void)[] = [];
  const wake = () => {
    const resolve = waiter;
    waiter = undefined;
    resolve?.();
  };
  return {
    get open() {
      return open;
    },
    close() {
      if (!open) return;
      open = false;
      wake();
      for (const callback of callbacks.splice(0)) callback();
    },
    onClose(callback: () => void) {
      if (open) callbacks.push(callback);
      else callback();
    },
    /** Resolves at the next `wake()` (a drain) or the close. */
    waitForDrain(): Promise<void> {
      return new Promise((resolve) => (waiter = resolve));
    },
    wake,
  };
}

/** Writes to the Node-compatible server's response directly. */
function nodeSink(
  res: HttpBindings["outgoing"],
  headers: Headers,
  options: SinkOptions,
): SseSink {
  res.writeHead(200, Object.fromEntries(headers));
  res.flushHeaders();
  // A stream is long-lived by design: no request or idle timeout for it.
  res.socket?.setTimeout(0);
  const state = sinkState();
  res.on("close", state.close);
  res.on("error", state.close);
  return {
    // A response of its own (the library's constant would collect every
    // request's middleware headers): only its marker header matters.
    response: new Response(null, { headers: RESPONSE_ALREADY_SENT.headers }),
    get open() {
      return state.open && !res.destroyed;
    },
    get full() {
      return res.writableLength > options.maxBufferedBytes;
    },
    write(frame) {
      // Each flushed frame wakes a waiting writer: Node's 'drain' fires only
      // past the response's own high-water mark (64 KB), which a smaller
      // limit never reaches.
      if (state.open && !res.destroyed) res.write(frame, state.wake);
    },
    drained() {
      if (!state.open || res.writableLength === 0) return Promise.resolve();
      return state.waitForDrain();
    },
    end() {
      if (state.open && !res.writableEnded) res.end();
      state.close();
    },
    drop() {
      res.destroy();
      state.close();
    },
    onClose: state.onClose,
  };
}

/** A bounded `ReadableStream` body, for `Deno.serve` and in-process `app.fetch`. */
function webSink(headers: Headers, options: SinkOptions): SseSink {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const state = sinkState();
  const body = new ReadableStream<Uint8Array>(
    {
      start: (c) => void (controller = c),
      // Called once the client has read the queue below the limit.
      pull: state.wake,
      cancel: state.close,
    },
    new ByteLengthQueuingStrategy({ highWaterMark: options.maxBufferedBytes }),
  );
  return {
    response: new Response(body, { status: 200, headers }),
    get open() {
      return state.open;
    },
    get full() {
      return (controller.desiredSize ?? 0) <= 0;
    },
    write(frame) {
      if (state.open) controller.enqueue(frame);
    },
    drained() {
      if (!state.open || (controller.desiredSize ?? 0) > 0) return Promise.resolve();
      return state.waitForDrain();
    },
    end() {
      if (state.open) controller.close();
      state.close();
    },
    drop() {
      if (state.open) controller.error(new Error("The client stopped reading; dropped."));
      state.close();
    },
    onClose: state.onClose,
  };
}

/**
 * Wraps the sink of a response sent with `Content-Encoding: gzip`: frames
 * written here reach `inner` at once as one gzip member (`sse_gzip.ts`),
 * so the buffer limit and the slow-client rule count compressed bytes;
 * ending writes the member's trailer first. The compressor is freed once
 * the stream closes, by either side.
 */
function gzipSink(inner: SseSink): SseSink {
  const encoder = createGzipEncoder((bytes) => inner.write(bytes));
  inner.onClose(() => encoder.destroy());
  return {
    response: inner.response,
    get open() {
      return inner.open;
    },
    get full() {
      return inner.full;
    },
    write(frame) {
      if (inner.open) encoder.write(frame);
    },
    drained: () => inner.drained(),
    end() {
      if (inner.open) encoder.end();
      inner.end();
    },
    drop() {
      encoder.destroy();
      inner.drop();
    },
    onClose: inner.onClose,
  };
}
