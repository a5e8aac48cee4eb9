/**
 * The `/trainmodel` routes as OpenAPI route declarations: what each takes
 * and every answer it can give. `train_routes.ts` registers its handlers on
 * them; paths are relative to where the routes are mounted.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { pageQuerySchema } from "./listing.ts";
import { errorResponses, eventStreamResponse, jsonContent } from "./openapi.ts";
import { startedTaskSchema, taskPageSchema, taskStatusSchema } from "./openapi_schemas.ts";
import {
  eventsParam,
  lastEventIdHeaderSchema,
  meterIdParam,
  meterTypeFilter,
  statusesParam,
  taskIdParamsSchema,
  taskIdsParam,
} from "./request_schemas.ts";
import { trainRequestSchema } from "./train_request.ts";

/** The training request, as a component of the document. */
const trainRequestComponent = trainRequestSchema.meta({
  id: "TrainRequest",
  description:
    "Which meter to train, and optional training options. A key given twice is refused, naming it.",
  example: { meter_id: "meter_test_001", meter_type: "electricity" },
});

const NOT_FOUND = "The task is unknown or expired (finished tasks are kept TASK_TTL_SECONDS)";

/**
 * `POST /trainmodel/`. Its handler reads the body itself (strict JSON that
 * refuses a repeated key, any content type, a 413 past the limit), so this
 * declaration only documents it.
 */
export const startTaskRoute = createRoute({
  method: "post",
  path: "/",
  tags: ["training"],
  summary: "Start training a meter's model",
  request: {
    body: { required: true, content: jsonContent(trainRequestComponent) },
  },
  responses: {
    202: {
      description: "The task, PENDING at 0%",
      headers: {
        Location: {
          description: "The task's status, `/trainmodel/status/{task_id}`",
          schema: { type: "string" },
        },
      },
      content: jsonContent(startedTaskSchema),
    },
    ...errorResponses({
      409:
        "The meter already has an active task (`task_already_active`): its id is in `error.details.task_id`",
      413: "The body is over 16 KiB (`body_too_large`)",
      429:
        "The caller already has MAX_QUEUED_TASKS_PER_PRINCIPAL tasks waiting or training (`too_many_queued_tasks`); nothing was queued",
      503: "The queue holds MAX_QUEUED_TASKS tasks (`queue_full`); nothing was queued",
      422:
        "A bad field, a key given twice, a body that is not JSON, or a meter without readings (`validation_failed`, naming each)",
    }),
  },
});

/** `GET /trainmodel/tasks`. */
export const listTasksRoute = createRoute({
  method: "get",
  path: "/tasks",
  tags: ["training"],
  summary: "List tasks, newest first",
  description: "Tasks not yet expired, newest first (by `created_at`), as whole status objects.",
  request: {
    query: z.object({
      status: statusesParam,
      meter_type: meterTypeFilter,
      meter_id: meterIdParam.optional(),
      ...pageQuerySchema.shape,
    }),
  },
  responses: {
    200: { description: "A page of tasks", content: jsonContent(taskPageSchema) },
    ...errorResponses({
      400: "The cursor is not one this listing handed out (`bad_cursor`)",
      422: "A bad query value (`validation_failed`, naming each)",
    }),
  },
});

/** `GET /trainmodel/status/{task_id}`. */
export const taskStatusRoute = createRoute({
  method: "get",
  path: "/status/{task_id}",
  tags: ["training"],
  summary: "A task's status",
  request: { params: taskIdParamsSchema },
  responses: {
    200: { description: "The task status object", content: jsonContent(taskStatusSchema) },
    ...errorResponses({ 404: `${NOT_FOUND} (\`task_not_found\`)` }),
  },
});

const STREAM_END =
  "The stream ends after the final event (SUCCESS, FAILURE, CANCELLED) or after STREAM_MAX_SECONDS.";

/** `GET /trainmodel/stream?task_ids=…`. */
export const streamTasksRoute = createRoute({
  method: "get",
  path: "/stream",
  tags: ["training"],
  summary: "Stream several tasks' events on one connection",
  request: {
    query: z.object({ events: eventsParam, task_ids: taskIdsParam }),
    headers: z.object({
      "Last-Event-ID": lastEventIdHeaderSchema.shape["Last-Event-ID"].meta({
        description:
          "The `id:` of the last event received: an opaque cursor holding every task's last event; the stream resumes them all from there",
      }),
    }),
  },
  responses: {
    200: eventStreamResponse(
      `Each task's events as on its own stream, interleaved as they come; heartbeats and error events have \`task_id: null\`. Each status event's \`id:\` is a cursor of the whole stream. Ends when every task has. ${STREAM_END}`,
    ),
    204: { description: "The client already has every task's final event: nothing more to send" },
    ...errorResponses({
      400: "The Last-Event-ID is not a cursor of this stream (`invalid_last_event_id`)",
      404: `Tasks unknown or expired, listed in \`error.details.task_ids\` (\`task_not_found\`)`,
      422: "Bad `task_ids` or `events` (`validation_failed`)",
      503:
        "The server holds its maximum of event streams (`too_many_streams`); retry after Retry-After seconds",
    }),
  },
});

/** `GET /trainmodel/stream/{task_id}`. */
export const streamTaskRoute = createRoute({
  method: "get",
  path: "/stream/{task_id}",
  tags: ["training"],
  summary: "Stream a task's events",
  description:
    "Without Last-Event-ID the first event is the task's current state; with it, exactly the events after that id, then live ones (`0-0` replays the whole history).",
  request: {
    params: taskIdParamsSchema,
    query: z.object({ events: eventsParam }),
    headers: lastEventIdHeaderSchema,
  },
  responses: {
    200: eventStreamResponse(
      `One event per status change, heartbeats in between. Event ids are Redis stream ids (\`<ms>-<seq>\`). ${STREAM_END}`,
    ),
    204: {
      description:
        "The client already has the final event (Last-Event-ID): EventSource stops reconnecting",
    },
    ...errorResponses({
      400: "The Last-Event-ID is not an event id of this service (`invalid_last_event_id`)",
      404: `${NOT_FOUND} (\`task_not_found\`)`,
      422: "An unknown kind in `events` (`validation_failed`)",
      503:
        "The server holds its maximum of event streams (`too_many_streams`); retry after Retry-After seconds",
    }),
  },
});

/** `DELETE /trainmodel/{task_id}`. */
export const cancelTaskRoute = createRoute({
  method: "delete",
  path: "/{task_id}",
  tags: ["training"],
  summary: "Cancel a task",
  request: { params: taskIdParamsSchema },
  responses: {
    202: { description: "The task, now CANCELLED", content: jsonContent(taskStatusSchema) },
    ...errorResponses({
      404: `${NOT_FOUND} (\`task_not_found\`)`,
      409: "The task already ended (`task_already_finished`)",
    }),
  },
});
