/**
 * Several tasks on one event stream (`GET /trainmodel/stream?task_ids=…`):
 * each task followed as on its own stream (`task_feed.ts`), their events
 * interleaved as they come, each the same status object (with its
 * `task_id`). A browser allows six HTTP/1.1 connections per origin, so a
 * page watching many tasks needs them on one.
 *
 * Resuming: each event's `id:` is a cursor holding, for every task of the
 * stream in the order asked, the id of the last event sent (or none). It is
 * opaque to clients: `EventSource` sends it back as `Last-Event-ID`, and the
 * stream resumes every task from there, nothing lost or repeated. It is
 * base64url, about 16 bytes a task: at most `MAX_STREAM_TASKS` tasks (about
 * 1.6 KB), well within what servers and proxies take in a header.
 *
 * @module
 */
import type { Context } from "hono";
import { isEventId } from "../broker/event_id.ts";
import { isFinal, type TaskEvent } from "../domain/task.ts";
import { decodeBase64Url, encodeBase64Url } from "../util/base64.ts";
import { followTask } from "./task_feed.ts";
import { pace } from "./write_pacer.ts";
import {
  drainedWithin,
  type EventKind,
  openEventStream,
  reportStreamFailure,
  type StreamSettings,
} from "./task_stream.ts";

/** Tasks one stream may follow at most (its cursor stays under about 1.6 KB). */
export const MAX_STREAM_TASKS = 100;

/** The cursor of a multi-task stream: each task's last event id, in the stream's order. */
export function encodeCursor(lastIds: readonly (string | null)[]): string {
  const compact = lastIds.map((id) => {
    if (id === null) return "";
    const [ms, seq] = id.split("-").map(Number);
    return seq === 0 ? ms.toString(36) : `${ms.toString(36)}.${seq.toString(36)}`;
  }).join("~");
  return encodeBase64Url(new TextEncoder().encode(compact));
}

/** Reads a cursor for `count` tasks; null when it is not one this stream hands out. */
export function decodeCursor(cursor: string, count: number): (string | null)[] | null {
  if (!/^[A-Za-z0-9_-]{0,4096}$/.test(cursor)) return null;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(decodeBase64Url(cursor));
  } catch {
    return null;
  }
  const parts = text.split("~");
  if (parts.length !== count) return null;
  const ids = parts.map((part) => {
    if (part === "") return null;
    const match = /^([0-9a-z]{1,11})(?:\.([0-9a-z]{1,11}))?$/.exec(part);
    if (!match) return undefined;
    const id = `${parseInt(match[1], 36)}-${match[2] ? parseInt(match[2], 36) : 0}`;
    return isEventId(id) ? id : undefined;
  });
  return ids.includes(undefined) ? null : ids as (string | null)[];
}

const dataParts = new WeakMap<TaskEvent, string>();

/** The `data:` line of a status event, made once per event for every stream. */
function dataOf(event: TaskEvent): string {
  let data = dataParts.get(event);
  if (data === undefined) {
    data = `data: ${JSON.stringify(event.task)}\n`;
    dataParts.set(event, data);
  }
  return data;
}

const encoder = new TextEncoder();

/** Answers one event stream of several tasks known to exist. */
export function streamTasks(
  c: Context,
  settings: StreamSettings,
  taskIds: readonly string[],
  lastIds: readonly (string | null)[],
  kinds: ReadonlySet<EventKind>,
  finished: ReadonlySet<string>,
): Response {
  const { sink, stop, delivered } = openEventStream(c, settings, null, kinds);

  const cursor = [...lastIds];
  const feeds = taskIds.map((id, i) => followTask(settings, id, lastIds[i], stop.signal));
  const pending = new Map<number, Promise<{ i: number; r: IteratorResult<TaskEvent[]> }>>();
  const pull = (i: number) => pending.set(i, feeds[i].next().then((r) => ({ i, r })));
  // A task whose final event the client already has is not followed.
  feeds.forEach((_, i) => finished.has(taskIds[i]) || pull(i));

  void (async () => {
    try {
      while (pending.size > 0 && sink.open) {
        const { i, r } = await Promise.race(pending.values());
        pending.delete(i);
        if (r.done) continue; // that task ended (its final event was sent)
        let text = "";
        for (const event of r.value) {
          cursor[i] = event.id;
          if (kinds.has("status")) text += `${dataOf(event)}id: ${encodeCursor(cursor)}\n\n`;
        }
        if (text) {
          const bytes = encoder.encode(text);
          if (r.value.length > 1) await pace(bytes.byteLength); // a replay, or a burst: bulk
          sink.write(bytes);
          delivered(r.value);
        }
        if (sink.full && !await drainedWithin(sink, settings.stallMs)) {
          settings.streams.noteSlow();
          sink.drop();
        }
        if (!isFinal(r.value.at(-1)!.task.status)) pull(i);
        else void feeds[i].return(undefined);
      }
    } catch (error) {
      reportStreamFailure(sink, settings, kinds, null, {
        subject: `tasks ${taskIds.join(", ")}`,
        whose: "these tasks'",
      }, error);
    } finally {
      stop.abort();
      for (const feed of feeds) void feed.return(undefined).catch(() => {});
      sink.end();
    }
  })();
  return sink.response;
}
