/**
 * Streams one task's events as Server-Sent Events: one event per status
 * change (`id:` and `data:`, no `event:` so `EventSource.onmessage` gets
 * it), heartbeats on the shared clock (`open_streams.ts`), an error event
 * on a server-side problem, and the end of the stream after the final event
 * or the maximum connection time. Nothing outlives the connection: when the
 * client goes, the sink closes, the feed stops and its watcher is removed.
 *
 * Events go out no faster than the client reads them: past the buffer
 * limit the stream waits for the client to catch up (a long replay is sent
 * in bursts), and a client that has not caught up within `stallMs` is
 * dropped and counted. Waiting costs little: pending events are the hub's
 * shared objects, and their frames are encoded once for every stream.
 *
 * @module
 */
import { takeStreamEnd } from "./rate_limit.ts";
import type { Context } from "hono";
import type { TaskEvent } from "../domain/task.ts";
import type { OpenStreams } from "./open_streams.ts";
import { sseFrame } from "./sse_frame.ts";
import { openSseSink, type SseSink } from "./sse_sink.ts";
import { type FeedSources, followTask } from "./task_feed.ts";
import { pace } from "./write_pacer.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { deferRequestEnd, requestIdOf } from "./request_observer.ts";
import { logger } from "../logging/logging.ts";

const log = logger("streams");

/** What a stream needs. */
export interface StreamSettings extends FeedSources {
  /** The process's open streams: heartbeats, maximum duration, shutdown. */
  streams: OpenStreams;
  /** Unread bytes a client may leave before the stream waits for it. */
  maxBufferedBytes: number;
  /** How long a stream waits for a client to catch up before dropping it. */
  stallMs: number;
  /** Gzip the stream for clients that accept it (`sse_gzip.ts`). */
  gzip?: boolean;
  /** Log errors in full. */
  debug: boolean;
  /** Counts open streams and delivered events; absent: nothing counted. */
  metrics?: Pick<Metrics, "streamOpened" | "delivered">;
}

/** An event stream just opened. */
export interface OpenedStream {
  sink: SseSink;
  /** Aborts when the stream closes. */
  stop: AbortController;
  /** Counts status events written to it (for the metrics). */
  delivered(events: readonly TaskEvent[]): void;
}

/** Response headers of every event stream. */
export const STREAM_HEADERS = {
  "Content-Type": "text/event-stream",
  "Cache-Control": "no-cache, no-transform",
  "X-Accel-Buffering": "no",
} as const;

/** The kinds of event a stream carries; `?events=` picks some. */
export const EVENT_KINDS = ["status", "heartbeat", "error"] as const;

/** A kind of event on a stream. */
export type EventKind = typeof EVENT_KINDS[number];

/** Answers the event stream of a task known to exist, with the kinds of event asked for. */
export function streamTask(
  c: Context,
  settings: StreamSettings,
  taskId: string,
  lastEventId: string | null,
  kinds: ReadonlySet<EventKind> = new Set(EVENT_KINDS),
): Response {
  const stream = openEventStream(c, settings, taskId, kinds);
  void forward(
    followTask(settings, taskId, lastEventId, stream.stop.signal),
    stream,
    taskId,
    settings,
    kinds,
  );
  return stream.sink.response;
}

/**
 * Opens an event stream's sink and puts it on the shared clock (heartbeats
 * when asked for, the maximum duration); `stop` aborts when the client goes.
 * `taskId` names the task in heartbeats (null: a stream of several). The
 * request counts as answered when the stream closes (its duration, its log
 * line), and the stream is counted open until then.
 */
export function openEventStream(
  c: Context,
  settings: StreamSettings,
  taskId: string | null,
  kinds: ReadonlySet<EventKind>,
): OpenedStream {
  const openedAt = Date.now();
  const sink = openSseSink(c, {
    headers: STREAM_HEADERS,
    maxBufferedBytes: settings.maxBufferedBytes,
    gzip: settings.gzip,
  });
  const stop = new AbortController();
  sink.onClose(() => stop.abort());
  sink.onClose(takeStreamEnd(c)); // gives back the caller's stream slot
  if (settings.metrics) sink.onClose(settings.metrics.streamOpened());
  sink.onClose(deferRequestEnd(c));
  settings.streams.add({ taskId, sink, heartbeats: kinds.has("heartbeat") });
  const metrics = settings.metrics;
  let written = 0;
  if (log.isEnabledFor("debug")) logStreamLife(c, sink, openedAt, () => written);
  return {
    sink,
    stop,
    delivered(events) {
      written += events.length;
      metrics?.delivered(events, openedAt);
    },
  };
}

/**
 * `DEBUG=true`: a line when a stream opens (its path, without the query
 * and its tokens; its request id and `Last-Event-ID`) and one when it
 * closes (how long it was open, status events written).
 */
function logStreamLife(c: Context, sink: SseSink, openedAt: number, written: () => number): void {
  // Placeholders, not interpolation: a path may hold LogTape's braces.
  const fields = {
    path: c.req.path,
    request_id: requestIdOf(c),
    last_event_id: c.req.header("Last-Event-ID") ?? null,
  };
  log.debug("stream opened: {path} last_event_id={last_event_id}", fields);
  sink.onClose(() => {
    log.debug("stream closed: {path} after {open_seconds}s, {events} status events", {
      ...fields,
      open_seconds: Math.round(Date.now() - openedAt) / 1000,
      events: written(),
    });
  });
}

/**
 * Logs that a stream could not read its events (`subject`: "task …"), and
 * tells its client with an error event when it asked for them (`whose`:
 * "this task's").
 */
export function reportStreamFailure(
  sink: SseSink,
  settings: StreamSettings,
  kinds: ReadonlySet<EventKind>,
  taskId: string | null,
  names: { subject: string; whose: string },
  error: unknown,
): void {
  log.error(`The event stream of ${names.subject} failed: {error}`, {
    error: settings.debug ? error : String(error),
  });
  if (!kinds.has("error")) return;
  sink.write(sseFrame({
    task_id: taskId,
    type: "error",
    error:
      `The server could not read ${names.whose} events. Reconnect to resume from the last event received.`,
    timestamp: new Date().toISOString(),
  }));
}

/** Bytes of frames written at once, at most (a replay's burst). */
const MAX_WRITE_BYTES = 32 * 1024;

/**
 * Writes the feed's events to the sink until either ends; then ends the
 * sink. A batch (a replay, or events that came together) goes out in
 * writes of up to `MAX_WRITE_BYTES`, paced with every other stream's
 * (`write_pacer.ts`), so a thousand replays at once do not hold up the
 * process.
 */
async function forward(
  batches: AsyncGenerator<TaskEvent[]>,
  { sink, delivered }: OpenedStream,
  taskId: string,
  settings: StreamSettings,
  kinds: ReadonlySet<EventKind>,
): Promise<void> {
  try {
    for await (const batch of batches) {
      // Without status events the stream still ends with the task.
      if (!kinds.has("status")) continue;
      for (let i = 0; i < batch.length && sink.open;) {
        const frames: Uint8Array[] = [];
        let bytes = 0;
        while (i < batch.length && (frames.length === 0 || bytes < MAX_WRITE_BYTES)) {
          const frame = frameOf(batch[i++]);
          frames.push(frame);
          bytes += frame.byteLength;
        }
        if (batch.length > 1) await pace(bytes); // a replay, or a burst: bulk
        if (!sink.open) break;
        sink.write(frames.length === 1 ? frames[0] : chunkOf(batch[i - frames.length], frames));
        delivered(batch.slice(i - frames.length, i));
        if (sink.full && !await drainedWithin(sink, settings.stallMs)) {
          settings.streams.noteSlow();
          sink.drop();
        }
      }
      if (!sink.open) break;
    }
  } catch (error) {
    reportStreamFailure(sink, settings, kinds, taskId, {
      subject: `task ${taskId}`,
      whose: "this task's",
    }, error);
  } finally {
    sink.end();
  }
}

/** True when the client took its buffered bytes within `ms`. */
export async function drainedWithin(sink: SseSink, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([sink.drained().then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

const chunks = new WeakMap<TaskEvent, { count: number; chunk: Uint8Array }>();

/**
 * The frames of consecutive events as one buffer, kept with the first
 * event: replays of the same history cut it at the same events, so they
 * share these buffers as they share the frames.
 */
function chunkOf(first: TaskEvent, frames: Uint8Array[]): Uint8Array {
  const known = chunks.get(first);
  if (known?.count === frames.length) return known.chunk;
  const chunk = new Uint8Array(frames.reduce((n, f) => n + f.byteLength, 0));
  let at = 0;
  for (const frame of frames) {
    chunk.set(frame, at);
    at += frame.byteLength;
  }
  chunks.set(first, { count: frames.length, chunk });
  return chunk;
}

const frames = new WeakMap<TaskEvent, Uint8Array>();

/**
 * The SSE frame of a status event (`data:` then `id:`), encoded once per
 * event: the hub hands the same event object to every stream of a task, so
 * 10,000 streams share one JSON serialisation and one buffer.
 */
export function frameOf(event: TaskEvent): Uint8Array {
  let frame = frames.get(event);
  if (!frame) {
    frame = sseFrame(event.task, event.id);
    frames.set(event, frame);
  }
  return frame;
}
