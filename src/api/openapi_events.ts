/**
 * `GET /trainmodel/events`, the event stream of every task that matches a
 * filter, as an OpenAPI route declaration. Its handler lives in
 * `events_routes.ts`, which registers on `eventsRoute` with
 * `app.openapi(eventsRoute, handler)` (the path is relative to `/trainmodel`),
 * so the query is validated by these schemas and answered in the API's 422.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses, eventStreamResponse } from "./openapi.ts";
import { eventsParam, meterIdParam, meterTypeParam, statusesParam } from "./request_schemas.ts";

/** `GET /trainmodel/events`, relative to `/trainmodel`. */
export const eventsRoute = createRoute({
  method: "get",
  path: "/events",
  tags: ["training"],
  summary: "Stream the events of every task that matches a filter",
  description:
    "The events of every task matching the filters (every task without them), interleaved as they come, each carrying its `task_id`.",
  request: {
    query: z.object({
      meter_type: meterTypeParam.optional(),
      meter_id: meterIdParam.optional(),
      status: statusesParam,
      events: eventsParam,
    }),
    headers: z.object({
      "Last-Event-ID": z.string().optional().meta({
        description:
          "An opaque cursor: the `id:` of the last event received (or of the stream's first line); the stream resumes from there",
      }),
    }),
  },
  responses: {
    200: eventStreamResponse(
      "Task status objects, heartbeats and error events of the matching tasks, each with its `task_id`. The stream starts with an `id:` line and no data: the client's position, to resume from with Last-Event-ID.",
    ),
    ...errorResponses({
      422: "A bad query value (`validation_failed`, naming each)",
      503:
        "The server holds its maximum of event streams (`too_many_streams`); retry after Retry-After seconds",
    }),
  },
});
