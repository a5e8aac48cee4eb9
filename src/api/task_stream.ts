/**
 * Streams one task's events as Server-Sent Events: one event per status
 * change (`id:` and `data:`, no `event:` so `EventSource.onmessage` gets
 * it), heartbeats on a fixed schedule, an error event on a server-side
 * problem, and the end of the stream after the final event or the maximum
 * connection time. Nothing outlives the connection.
 *
 * @module
 */
import type { Context } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import { type FeedSources, followTask } from "./task_feed.ts";

/** What a stream needs. */
export interface StreamSettings extends FeedSources {
  /** Milliseconds between heartbeats. */
  heartbeatMs: number;
  /** Milliseconds after which the server closes the stream. */
  streamMaxMs: number;
  /** Log errors in full. */
  debug: boolean;
  /** Aborts when the server shuts down: open streams end. */
  closing?: AbortSignal;
}

/** Response headers of every event stream. */
export const STREAM_HEADERS = {
  "Content-Type": "text/event-stream",
  "Cache-Control": "no-cache, no-transform",
  "X-Accel-Buffering": "no",
} as const;

const HEARTBEAT = Symbol("heartbeat");
const STOP = Symbol("stop");

/** Answers the event stream of a task known to exist. */
export function streamTask(
  c: Context,
  settings: StreamSettings,
  taskId: string,
  lastEventId: string | null,
): Response {
  const response = streamSSE(c, async (stream) => {
    const stop = new AbortController();
    stream.onAbort(() => stop.abort());
    const onClosing = () => stop.abort();
    settings.closing?.addEventListener("abort", onClosing);
    const maxTimer = setTimeout(() => stop.abort(), settings.streamMaxMs);
    const events = followTask(settings, taskId, lastEventId, stop.signal);
    let pending: ReturnType<typeof events.next> | undefined;
    try {
      const started = performance.now();
      let beats = 1;
      pending = events.next();
      while (!stop.signal.aborted) {
        const wait = started + beats * settings.heartbeatMs - performance.now();
        const next = await race(pending, wait, stop.signal);
        if (next === STOP) break;
        if (next === HEARTBEAT) {
          beats = Math.floor((performance.now() - started) / settings.heartbeatMs) +
            1;
          await writeJson(stream, {
            task_id: taskId,
            type: "heartbeat",
            timestamp: new Date().toISOString(),
          });
          continue;
        }
        if (next.done) break;
        await stream.writeSSE({
          id: next.value.id,
          data: JSON.stringify(next.value.task),
        });
        pending = events.next();
      }
    } catch (error) {
      console.error(
        `The event stream of task ${taskId} failed:`,
        settings.debug ? error : String(error),
      );
      if (!stream.aborted) {
        await writeJson(stream, {
          task_id: taskId,
          type: "error",
          error:
            "The server could not read this task's events. Reconnect to resume from the last event received.",
          timestamp: new Date().toISOString(),
        });
      }
    } finally {
      clearTimeout(maxTimer);
      settings.closing?.removeEventListener("abort", onClosing);
      stop.abort();
      // Settle the generator (it ends once aborted) so its watcher is removed.
      await pending?.catch(() => {});
      await events.return(undefined).catch(() => {});
    }
  });
  // Hono's streamSSE stashes its own Cache-Control, Connection and
  // Transfer-Encoding on the context, which copies them onto any response
  // returned: correct them there, and answer exactly the contract's headers.
  for (const [name, value] of Object.entries(STREAM_HEADERS)) c.header(name, value);
  c.header("Connection", undefined);
  c.header("Transfer-Encoding", undefined);
  return new Response(response.body, { status: 200, headers: STREAM_HEADERS });
}

function writeJson(stream: SSEStreamingApi, value: unknown): Promise<void> {
  return stream.writeSSE({ data: JSON.stringify(value) });
}

/** Waits for the next event, a heartbeat due in `ms`, or an abort. */
function race<T>(
  next: Promise<T>,
  ms: number,
  signal: AbortSignal,
): Promise<T | typeof HEARTBEAT | typeof STOP> {
  if (signal.aborted) return Promise.resolve(STOP);
  return new Promise((resolve, reject) => {
    const onAbort = () => done(STOP);
    const timer = setTimeout(() => done(HEARTBEAT), Math.max(0, ms));
    signal.addEventListener("abort", onAbort);
    function done(value: T | typeof HEARTBEAT | typeof STOP) {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(value);
    }
    next.then(done, (error) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      reject(error);
    });
  });
}
