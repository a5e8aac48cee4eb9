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
import type { TaskEvent } from "../domain/task.ts";
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
    // Heartbeats on their own schedule, every heartbeatMs from the start;
    // each write is a whole frame, so they interleave safely with events.
    const heartbeat = setInterval(() => {
      writeJson(stream, {
        task_id: taskId,
        type: "heartbeat",
        timestamp: new Date().toISOString(),
      }).catch(() => stop.abort());
    }, settings.heartbeatMs);
    const events = followTask(settings, taskId, lastEventId, stop.signal);
    try {
      for await (const event of events) await stream.write(frameOf(event));
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
      clearInterval(heartbeat);
      clearTimeout(maxTimer);
      settings.closing?.removeEventListener("abort", onClosing);
      stop.abort();
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

const frames = new WeakMap<TaskEvent, Uint8Array>();
const encoder = new TextEncoder();

/**
 * The SSE frame of a status event (`data:` then `id:`), encoded once per
 * event: the hub hands the same event object to every stream of a task, so
 * 10,000 streams share one JSON serialisation and one buffer.
 */
export function frameOf(event: TaskEvent): Uint8Array {
  let frame = frames.get(event);
  if (!frame) {
    // JSON.stringify escapes line breaks, so the data is one line.
    frame = encoder.encode(`data: ${JSON.stringify(event.task)}\nid: ${event.id}\n\n`);
    frames.set(event, frame);
  }
  return frame;
}

function writeJson(stream: SSEStreamingApi, value: unknown): Promise<void> {
  return stream.writeSSE({ data: JSON.stringify(value) });
}
