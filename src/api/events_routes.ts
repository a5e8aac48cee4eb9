/**
 * Every task's events on one stream (`GET /trainmodel/events`): what a
 * dashboard watches. Each status event is the same status object as on the
 * task's own stream, with its `task_id`; `meter_type`, `meter_id` and
 * `status` keep only some tasks' events, `events=` some kinds of event.
 *
 * The cursor is the position of the event in the broker's log of every
 * task's events (`all_tasks_feed.ts`): one short id (`<ms>-<seq>`, opaque
 * to clients) however many tasks there are. A stream starts "now" with a
 * frame holding only that position (`id:` and no data: `EventSource` takes
 * the id and dispatches nothing), so a client that drops before any event
 * still resumes from where it joined. Events filtered out still move the
 * client's position on, with such a bare `id:` frame at most once a second,
 * so a narrow filter does not leave it behind the kept log. When the events
 * after a client's position are no longer kept (`gap`), the stream says so
 * with an error event (`code: "events_expired"`) and goes on from the
 * oldest kept: the client refetches the task list to fill the hole.
 *
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Broker } from "../broker/broker.ts";
import { isEventId } from "../broker/event_id.ts";
import type { TaskEvent } from "../domain/task.ts";
import { followAllTasks } from "./all_tasks_feed.ts";
import { ApiError } from "./errors.ts";
import { maySee } from "./access.ts";
import { sseFrame } from "./sse_frame.ts";
import { passes, type TaskFilters } from "./task_filters.ts";
import { eventsRoute } from "./openapi_events.ts";
import { validationHook } from "./openapi.ts";
import { eventKinds, taskStatuses } from "./request_schemas.ts";
import {
  drainedWithin,
  type EventKind,
  openEventStream,
  reportStreamFailure,
  type StreamSettings,
} from "./task_stream.ts";
import { tooManyStreams } from "./stream_requests.ts";
import { pace } from "./write_pacer.ts";

/** What the all-task stream needs. */
export interface EventsRoutesDeps extends StreamSettings {
  /** The broker itself: its log of every task's events. */
  log: Pick<Broker, "readAllEvents">;
  /** Event streams this process holds at most; the next is a 503. */
  maxStreams: number;
}

/** How often, at most, a stream sends a bare `id:` frame for events it filtered out. */
const POSITION_EVERY_MS = 1000;

const encoder = new TextEncoder();
const frames = new WeakMap<TaskEvent, string>();

/** A status event's frame on all-task streams (its `seq` as id), made once for every stream. */
function frameOf(event: TaskEvent): string {
  let frame = frames.get(event);
  if (frame === undefined) {
    frame = `data: ${JSON.stringify(event.task)}\nid: ${event.seq}\n\n`;
    frames.set(event, frame);
  }
  return frame;
}

/** Builds `GET /events`, mounted under `/trainmodel`; declared in `openapi_events.ts`. */
export function createEventsRoutes(deps: EventsRoutesDeps): OpenAPIHono {
  const routes = new OpenAPIHono({ strict: false, defaultHook: validationHook });

  routes.openapi(eventsRoute, (c) => {
    const query = c.req.valid("query");
    const kinds = eventKinds(query.events);
    const filters: TaskFilters = {
      status: taskStatuses(query.status),
      meterType: query.meter_type,
      meterId: query.meter_id,
      visible: maySee(c),
    };
    const after = c.req.valid("header")["Last-Event-ID"]?.trim() || null;
    if (after !== null && !isEventId(after)) {
      throw new ApiError(
        400,
        "invalid_last_event_id",
        `The Last-Event-ID header "${
          after.slice(0, 64)
        }" is not a position of this stream (they look like 1736937135123-0). Reconnect without it to start from now.`,
      );
    }
    if (deps.streams.count() >= deps.maxStreams) throw tooManyStreams(deps.maxStreams);
    return streamAllTasks(c, deps, after, filters, kinds);
  });

  return routes;
}

function streamAllTasks(
  c: Parameters<typeof openEventStream>[0],
  deps: EventsRoutesDeps,
  after: string | null,
  filters: TaskFilters,
  kinds: ReadonlySet<EventKind>,
): Response {
  const { sink, stop, delivered } = openEventStream(c, deps, null, kinds);
  const feed = followAllTasks({ broker: deps.log, hub: deps.hub }, after, stop.signal);
  let positionSentAt = 0;

  void (async () => {
    try {
      for await (const item of feed) {
        if (!sink.open) break;
        if (item.kind === "start") {
          sink.write(encoder.encode(`id: ${item.position}\n\n`));
          positionSentAt = Date.now();
          continue;
        }
        if (item.kind === "gap") {
          if (kinds.has("error")) {
            sink.write(sseFrame({
              task_id: null,
              type: "error",
              code: "events_expired",
              error:
                "Some events since your last one are no longer kept, so this stream cannot resume exactly: fetch GET /trainmodel/tasks again for the current state. Events go on from the oldest kept.",
              timestamp: new Date().toISOString(),
            }));
          }
          continue;
        }
        let text = "";
        let skipped: string | null = null;
        const sent: TaskEvent[] = [];
        for (const event of item.events) {
          if (kinds.has("status") && passes(event.task, filters)) {
            text += frameOf(event);
            sent.push(event);
            skipped = null;
          } else {
            skipped = event.seq!;
          }
        }
        if (skipped !== null && Date.now() - positionSentAt >= POSITION_EVERY_MS) {
          text += `id: ${skipped}\n\n`;
        }
        if (!text) continue;
        positionSentAt = Date.now();
        const bytes = encoder.encode(text);
        if (item.events.length > 1) await pace(bytes.byteLength); // a replay, or a burst: bulk
        if (!sink.open) break;
        sink.write(bytes);
        delivered(sent);
        if (sink.full && !await drainedWithin(sink, deps.stallMs)) {
          deps.streams.noteSlow();
          sink.drop();
        }
      }
    } catch (error) {
      reportStreamFailure(sink, deps, kinds, null, {
        subject: "every task",
        whose: "the tasks'",
      }, error);
    } finally {
      stop.abort();
      void feed.return(undefined).catch(() => {});
      sink.end();
    }
  })();
  return sink.response;
}
