/**
 * The batch routes as OpenAPI route declarations: start a task per meter
 * in one request, and read a group's progress. `batch_routes.ts` registers
 * its handlers on them; paths are relative to `/trainmodel`.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { METER_TYPES } from "../domain/meter.ts";
import { TASK_STATUSES } from "../domain/task.ts";
import { errorResponses, jsonContent } from "./openapi.ts";
import { batchRequestSchema, MAX_BATCH_METERS } from "./batch_request.ts";

const meterType = z.enum(METER_TYPES);

const member = z.object({ task_id: z.uuid(), meter_type: meterType, meter_id: z.string() });

/** `POST /trainmodel/batch`'s answer. */
export const startedBatchSchema = z.object({
  group_id: z.uuid(),
  status_url: z.string().meta({
    description: "The group's progress, `/trainmodel/groups/{group_id}`",
  }),
  tasks: z.array(member).meta({ description: "The tasks started, PENDING, in the order asked" }),
  skipped: z.array(z.object({
    meter_type: meterType,
    meter_id: z.string(),
    reason: z.enum(["task_already_active", "no_readings", "forbidden_meter"]),
    message: z.string(),
    task_id: z.uuid().optional().meta({ description: "With `task_already_active`: that task" }),
  })).meta({ description: "Meters named but not started, each with why" }),
  streams: z.array(z.object({
    task_ids: z.array(z.uuid()),
    stream_url: z.string().meta({
      description:
        "The multi-task stream of up to 100 of the tasks (with `?token=` when authentication is on)",
    }),
    stream_token: z.string().optional().meta({
      description: "Only when authentication is on: opens that stream as `?token=`",
    }),
  })).meta({ description: "Streams that follow every task, 100 tasks a stream" }),
}).meta({ id: "StartedBatch" });

/** `GET /trainmodel/groups/{group_id}`'s answer. */
export const groupSchema = z.object({
  group_id: z.uuid(),
  created_at: z.iso.datetime(),
  requested_by: z.string().optional(),
  total: z.int(),
  queued: z.int().meta({ description: "PENDING or RETRYING" }),
  running: z.int().meta({ description: "FETCHING_DATA to SAVING_MODEL" }),
  succeeded: z.int(),
  failed: z.int(),
  cancelled: z.int(),
  expired: z.int().meta({ description: "Ended more than TASK_TTL_SECONDS ago: no longer kept" }),
  done: z.boolean().meta({ description: "Every task has ended" }),
  tasks: z.array(member.extend({
    status: z.enum(TASK_STATUSES).nullable().meta({ description: "null once expired" }),
    progress: z.int().nullable(),
  })),
}).meta({ id: "TaskGroup" });

/** `POST /trainmodel/batch`; the handler reads the body itself, like `POST /trainmodel/`. */
export const startBatchRoute = createRoute({
  method: "post",
  path: "/batch",
  tags: ["training"],
  summary: "Start training many meters: one task per meter, in a group",
  description:
    `A list of up to ${MAX_BATCH_METERS} meters, or every meter of one type with \`{"meter_type": …, "all": true}\`, and the options every task trains with. The group's tasks are queued fairly: single tasks first, groups taking turns. Meters with an active task, no readings, or outside the caller's meter restriction are skipped and reported.`,
  request: {
    body: {
      required: true,
      content: jsonContent(batchRequestSchema.meta({
        id: "BatchRequest",
        example: {
          meters: [
            { meter_id: "meter_test_001", meter_type: "electricity" },
            { meter_id: "meter_gas_001", meter_type: "gas" },
          ],
          epochs: 30,
        },
      })),
    },
  },
  responses: {
    202: {
      description: "The group and its tasks, PENDING, and the meters skipped",
      headers: {
        Location: {
          description: "The group, `/trainmodel/groups/{group_id}`",
          schema: { type: "string" },
        },
      },
      content: jsonContent(startedBatchSchema),
    },
    ...errorResponses({
      409:
        "Every meter that could be trained already has an active task (`nothing_to_train`, each in `error.details.skipped`); nothing was queued",
      413: "The body is over 256 KiB (`body_too_large`)",
      422:
        "A bad field (`validation_failed`, naming each), or no meter named can be trained (`nothing_to_train`)",
      429:
        "The batch does not fit in the caller's MAX_QUEUED_TASKS_PER_PRINCIPAL (`too_many_queued_tasks`, with the room left); nothing was queued",
      503:
        "The batch does not fit in the queue's MAX_QUEUED_TASKS (`queue_full`, with the room left); nothing was queued",
    }),
  },
});

/** `GET /trainmodel/groups/{group_id}`. */
export const groupRoute = createRoute({
  method: "get",
  path: "/groups/{group_id}",
  tags: ["training"],
  summary: "A group's progress",
  request: {
    params: z.object({ group_id: z.string().meta({ description: "The group's id (a UUID)" }) }),
  },
  responses: {
    200: {
      description: "How many of the group's tasks are where, and each task",
      content: jsonContent(groupSchema),
    },
    ...errorResponses({ 404: "The group is unknown or expired (kept 7 days) (`group_not_found`)" }),
  },
});
