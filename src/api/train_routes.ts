/**
 * The training resource: start a training task, read its status, stream
 * its events, cancel it.
 *
 * The routes are declared in `openapi_train.ts`: their path and query parameters are
 * validated by those schemas, and the OpenAPI document is made from them.
 *
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Broker } from "../broker/broker.ts";
import { compareEventIds, isEventId } from "../broker/event_id.ts";
import type { EventHub } from "../broker/event_hub.ts";
import { isFinal, type TaskEvent } from "../domain/task.ts";
import { meterKey } from "../domain/meter.ts";
import type { TaskTracker } from "../tracker/tracker.ts";
import { limitBody } from "./body_limit.ts";
import { ApiError, fieldProblems, validationError } from "./errors.ts";
import { keptPage, openCursor, pageLimit, sealCursor } from "./listing.ts";
import { checkMeter, maySee, principalOf } from "./access.ts";
import { mintFor, type StreamTokenTimes } from "./auth_routes.ts";
import { checkQueueRoom, type QueueBounds } from "./queue_bounds.ts";
import type { Authenticator } from "../auth/authenticator.ts";
import type { StreamTokens } from "../auth/stream_tokens.ts";
import type { OpenStreams } from "./open_streams.ts";
import { streamTask } from "./task_stream.ts";
import { tooManyStreams } from "./stream_requests.ts";
import { decodeCursor, streamTasks } from "./multi_stream.ts";
import { coalesceReads } from "./coalesced_reads.ts";
import { toTrainRequest, trainRequestSchema } from "./train_request.ts";
import { refuseUnreachable, type WebhookRouteSettings } from "./webhook_routes.ts";
import { parseJsonBody } from "./json_body.ts";
import { validationHook } from "./openapi.ts";
import {
  cancelTaskRoute,
  listTasksRoute,
  startTaskRoute,
  streamTaskRoute,
  streamTasksRoute,
  taskStatusRoute,
} from "./openapi_train.ts";
import { eventKinds, TASK_ID_PATTERN as UUID, taskIds, taskStatuses } from "./request_schemas.ts";

/** What the training routes need. */
export interface TrainRoutesDeps {
  broker: Broker;
  hub: EventHub;
  tracker: TaskTracker;
  /** The process's open streams and their shared clock. */
  streams: OpenStreams;
  /** Unread bytes a stream's client may leave before the stream waits for it. */
  maxBufferedBytes: number;
  /** How long a stream waits for its client to catch up before dropping it. */
  stallMs: number;
  /** Gzip event streams for clients that accept it (`STREAM_GZIP`). */
  gzip?: boolean;
  /** Event streams this process holds at most; the next is a 503. */
  maxStreams: number;
  /** Seconds a finished task is kept, for the "unknown or expired" message. */
  taskTtlSeconds: number;
  debug: boolean;
  /** Whether authentication is on (a started task then comes with its stream token). */
  auth: Pick<Authenticator, "enabledNow">;
  tokens: StreamTokens;
  times: StreamTokenTimes;
  /** Active tasks there may be, in all and per principal. */
  queueBounds: QueueBounds;
  /** How `notify` targets are checked, and the key that signs them. */
  webhooks: WebhookRouteSettings;
}

/** Seconds a task's notify target is kept beyond TASK_TTL_SECONDS: a task may wait that long in the queue. */
const NOTIFY_TTL_SECONDS = 7 * 86_400;

/**
 * Refuses a `notify` that cannot be honoured: a standard one while there is
 * no WEBHOOK_SECRET to sign it with, or a target on a private address.
 */
async function checkNotify(
  notify: { url: string; format: string },
  settings: WebhookRouteSettings,
): Promise<void> {
  if (notify.format === "standard" && settings.secret === null) {
    throw new ApiError(
      400,
      "webhook_secret_missing",
      'Invalid request: notify cannot be signed: this service has no WEBHOOK_SECRET. Ask its operator to set one (whsec_…), send "format": "slack" (unsigned), or subscribe with POST /webhooks, which gives a key of its own.',
      { fields: [{ field: "notify", message: "needs WEBHOOK_SECRET on the service" }] },
    );
  }
  await refuseUnreachable(notify.url, "notify.url", settings);
}

/** Largest training request body accepted. */
export const MAX_TRAIN_BODY_BYTES = 16 * 1024;

function taskNotFound(taskId: string, ttlSeconds: number): ApiError {
  return new ApiError(
    404,
    "task_not_found",
    `Training task "${taskId.slice(0, 64)}" is unknown or expired: no task has that id now${
      UUID.test(taskId) ? "" : " (task ids are UUIDs)"
    }, and finished tasks are kept ${
      duration(ttlSeconds)
    } after they end. Start a new one with POST /trainmodel/.`,
  );
}

/** Seconds in words: `1 hour`, `2 days`, `90 seconds`. */
export function duration(seconds: number): string {
  for (const [unit, size] of [["day", 86_400], ["hour", 3600], ["minute", 60]] as const) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${unit}${n === 1 ? "" : "s"}`;
    }
  }
  return `${seconds} second${seconds === 1 ? "" : "s"}`;
}

/** Builds the `/trainmodel` routes. */
export function createTrainRoutes(deps: TrainRoutesDeps): OpenAPIHono {
  const routes = new OpenAPIHono({ strict: false, defaultHook: validationHook });
  const streamSettings = { ...deps, broker: coalesceReads(deps.broker, deps.hub) };

  async function taskOr404(
    taskId: string,
    read: (id: string) => Promise<TaskEvent | null> = deps.tracker.get,
  ): Promise<TaskEvent> {
    const current = UUID.test(taskId) ? await read(taskId) : null;
    if (!current) throw taskNotFound(taskId, deps.taskTtlSeconds);
    return current;
  }

  // Documented, not validated by the route: the handler parses the body itself.
  routes.openAPIRegistry.registerPath(startTaskRoute);
  routes.post(
    "/",
    limitBody(MAX_TRAIN_BODY_BYTES, "a training request is a small JSON object."),
    async (c) => {
      const body = parseJsonBody(
        await c.req.text(),
        '{"meter_id": "meter_test_001", "meter_type": "electricity"}',
      );
      const parsed = trainRequestSchema.safeParse(body);
      if (!parsed.success) throw validationError(fieldProblems(parsed.error));
      const { meter, options, notify } = toTrainRequest(parsed.data);
      checkMeter(c, meter);
      if (notify) await checkNotify(notify, deps.webhooks);
      // Counted, not read: a meter may hold years of readings (HLEN in Redis).
      if (await deps.broker.countReadings(meter) === 0) {
        throw validationError([{
          field: "meter_id",
          message: `has no readings stored for meter type ${meter.meter_type} (${
            meterKey(meter)
          }); upload the meter's readings before training`,
        }]);
      }
      const principal = principalOf(c);
      await checkQueueRoom(deps.broker, principal, deps.queueBounds);
      // The notify target is stored before the task exists, so that even a
      // task that ends at once finds it (`src/webhooks/dispatcher.ts`).
      const taskId = crypto.randomUUID();
      if (notify) {
        await deps.broker.webhooks.putTaskNotify(
          { task_id: taskId, ...notify },
          NOTIFY_TTL_SECONDS + deps.taskTtlSeconds,
        );
      }
      const outcome = await deps.tracker.create(
        meter,
        options,
        principal.via === "anonymous" ? undefined : principal.name,
        taskId,
      );
      if (!outcome.created) {
        if (notify) await deps.broker.webhooks.deleteTaskNotify(taskId);
        throw new ApiError(
          409,
          "task_already_active",
          `Meter ${
            meterKey(meter)
          } already has a training task in progress (${outcome.activeTaskId}). Follow it, or cancel it before starting another.`,
          {
            task_id: outcome.activeTaskId,
            status_url: `/trainmodel/status/${outcome.activeTaskId}`,
          },
        );
      }
      c.header("Location", `/trainmodel/status/${outcome.task.task_id}`);
      const answer = notify
        ? {
          ...outcome.task,
          notify: { ...notify, deliveries_url: `/webhooks/tasks/${taskId}/deliveries` },
        }
        : outcome.task;
      if (!deps.auth.enabledNow()) return c.json(answer, 202);
      const grant = await mintFor(deps, principal.name, principal.meters, [outcome.task.task_id]);
      return c.json({ ...answer, stream_token: grant.token }, 202);
    },
  );

  routes.openapi(listTasksRoute, async (c) => {
    const query = c.req.valid("query");
    const page = await keptPage(
      async (after, limit) => {
        const page = await deps.broker.listTasks({
          limit,
          after,
          status: taskStatuses(query.status),
          meterType: query.meter_type,
          meterId: query.meter_id,
        });
        return { items: page.tasks, next: page.next };
      },
      maySee(c),
      pageLimit(query.limit),
      openCursor(query.cursor),
    );
    return c.json({ tasks: page.items, next_cursor: sealCursor(page.next) }, 200);
  });

  routes.openapi(taskStatusRoute, async (c) => {
    const current = await taskOr404(c.req.valid("param").task_id);
    checkMeter(c, current.task);
    return c.json(current.task, 200);
  });

  routes.openapi(streamTasksRoute, async (c) => {
    const query = c.req.valid("query");
    const kinds = eventKinds(query.events);
    const ids = taskIds(query.task_ids);
    const currents = await Promise.all(ids.map((id) => streamSettings.broker.getTask(id)));
    const unknown = ids.filter((_, i) => !currents[i]);
    for (const current of currents) if (current) checkMeter(c, current.task);
    if (unknown.length) {
      throw new ApiError(
        404,
        "task_not_found",
        `These training tasks are unknown or expired: ${
          unknown.join(", ")
        }. Finished tasks are kept ${
          duration(deps.taskTtlSeconds)
        } after they end; stream the others without them.`,
        { task_ids: unknown },
      );
    }
    const header = c.req.valid("header")["Last-Event-ID"]?.trim();
    const lastIds = header ? decodeCursor(header, ids.length) : ids.map(() => null);
    if (!lastIds) {
      throw new ApiError(
        400,
        "invalid_last_event_id",
        "The Last-Event-ID header is not a cursor of this stream (one stream's cursor fits only the same task_ids, in the same order). Reconnect without it to start from each task's current state.",
      );
    }
    const finished = new Set<string>();
    for (const [i, id] of ids.entries()) {
      const last = lastIds[i];
      if (last === null) continue;
      let current = currents[i]!;
      if (compareEventIds(last, current.id) >= 0) current = await taskOr404(id); // not a shared read
      if (compareEventIds(last, current.id) > 0) lastIds[i] = null; // from the future: start over
      else if (isFinal(current.task.status) && compareEventIds(last, current.id) === 0) {
        finished.add(id);
      }
    }
    if (finished.size === ids.length) return c.body(null, 204);
    if (deps.streams.count() >= deps.maxStreams) throw tooManyStreams(deps.maxStreams);
    return streamTasks(c, streamSettings, ids, lastIds, kinds, finished);
  });

  routes.openapi(streamTaskRoute, async (c) => {
    const taskId = c.req.valid("param").task_id;
    const kinds = eventKinds(c.req.valid("query").events);
    let current = await taskOr404(taskId, streamSettings.broker.getTask);
    checkMeter(c, current.task);
    let lastEventId = c.req.valid("header")["Last-Event-ID"]?.trim() || null;
    if (lastEventId !== null && !isEventId(lastEventId)) {
      throw new ApiError(
        400,
        "invalid_last_event_id",
        `The Last-Event-ID header "${
          lastEventId.slice(0, 64)
        }" is not an event id of this service (they look like 1736937135123-0). Reconnect without it to start from the current state.`,
      );
    }
    if (lastEventId !== null && compareEventIds(lastEventId, current.id) >= 0) {
      // The client is at (or past) the shared read of the task's state: read
      // it again on its own, since the shared one may predate the client's
      // last event (another instance sent it before this one heard of it).
      current = await taskOr404(taskId);
    }
    if (lastEventId !== null && compareEventIds(lastEventId, current.id) > 0) {
      // An id from the future is not ours: start from the current state.
      lastEventId = null;
    }
    if (
      lastEventId !== null && isFinal(current.task.status) &&
      compareEventIds(lastEventId, current.id) >= 0
    ) {
      // The client has the final event: 204 tells EventSource to stop reconnecting.
      return c.body(null, 204);
    }
    if (deps.streams.count() >= deps.maxStreams) throw tooManyStreams(deps.maxStreams);
    return streamTask(c, streamSettings, taskId, lastEventId, kinds);
  });

  routes.openapi(cancelTaskRoute, async (c) => {
    const taskId = c.req.valid("param").task_id;
    checkMeter(c, (await taskOr404(taskId)).task);
    const outcome = await deps.tracker.cancel(taskId);
    if (outcome.outcome === "cancelled") return c.json(outcome.task, 202);
    if (outcome.outcome === "already_final") {
      throw new ApiError(
        409,
        "task_already_finished",
        `Task ${taskId} already ended with status ${outcome.task.status}; there is nothing to cancel.`,
        { task_id: taskId, status: outcome.task.status },
      );
    }
    throw taskNotFound(taskId, deps.taskTtlSeconds);
  });

  return routes;
}
