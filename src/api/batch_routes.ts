/**
 * Training a fleet: `POST /trainmodel/batch` starts one task per meter in
 * a group, and `GET /trainmodel/groups/{group_id}` reports the group's
 * progress. Mounted under `/trainmodel` beside `train_routes.ts`.
 *
 * What is all-or-nothing: a bad field refuses the whole batch (`422`), and
 * so does a batch that does not fit in the queue's bounds (`503`/`429`,
 * naming the room left); the tasks are then created in one atomic step of
 * the broker. What is per meter: a meter with an active task, without
 * readings, or outside the caller's meter restriction is skipped and
 * reported, and the others start.
 *
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Broker } from "../broker/broker.ts";
import { meterKey, type MeterRef, type MeterType } from "../domain/meter.ts";
import { mayUseMeter, type Principal } from "../domain/principal.ts";
import { groupProgress } from "../domain/task_group.ts";
import type { TaskTracker } from "../tracker/tracker.ts";
import type { Authenticator } from "../auth/authenticator.ts";
import type { StreamTokens } from "../auth/stream_tokens.ts";
import { checkMeter, principalOf } from "./access.ts";
import { mintFor, type StreamTokenTimes } from "./auth_routes.ts";
import { limitBody } from "./body_limit.ts";
import { ApiError, fieldProblems, validationError } from "./errors.ts";
import { parseJsonBody } from "./json_body.ts";
import { checkQueueRoom, type QueueBounds } from "./queue_bounds.ts";
import { batchRequestSchema, MAX_BATCH_METERS, toBatchRequest } from "./batch_request.ts";
import { groupRoute, startBatchRoute } from "./openapi_batch.ts";
import { validationHook } from "./openapi.ts";
import { TASK_ID_PATTERN } from "./request_schemas.ts";
import { MAX_STREAM_TASKS } from "./multi_stream.ts";

/** What the batch routes need. */
export interface BatchRoutesDeps {
  broker: Broker;
  tracker: TaskTracker;
  /** Whether authentication is on (the streams then come with stream tokens). */
  auth: Pick<Authenticator, "enabledNow">;
  tokens: StreamTokens;
  times: StreamTokenTimes;
  queueBounds: QueueBounds;
}

/** Largest batch request body accepted: room for MAX_BATCH_METERS meters. */
export const MAX_BATCH_BODY_BYTES = 256 * 1024;

/** Broker reads in flight at once for one request (Redis: one REST call each). */
const READS_AT_ONCE = 50;

/** A meter named but not started, and why. */
interface Skipped extends MeterRef {
  reason: "task_already_active" | "no_readings" | "forbidden_meter";
  message: string;
  task_id?: string;
}

/** `work` over `items`, at most READS_AT_ONCE at a time, results in order. */
async function inChunks<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += READS_AT_ONCE) {
    out.push(...await Promise.all(items.slice(i, i + READS_AT_ONCE).map(work)));
  }
  return out;
}

/** Every meter of `type` that the principal may use; a 422 past MAX_BATCH_METERS. */
async function allMeters(
  broker: Broker,
  type: MeterType,
  principal: Principal,
): Promise<MeterRef[]> {
  const meters: MeterRef[] = [];
  let after: string | null = null;
  do {
    const page = await broker.listMeters({ limit: 200, after, meterType: type });
    meters.push(...page.meters.filter((meter) => mayUseMeter(principal, meter)));
    after = page.next;
  } while (after !== null && meters.length <= MAX_BATCH_METERS);
  if (meters.length > MAX_BATCH_METERS) {
    throw validationError([{
      field: "all",
      message:
        `would train more than ${MAX_BATCH_METERS} ${type} meters, more than one batch may; list them in batches of at most ${MAX_BATCH_METERS} in "meters"`,
    }]);
  }
  return meters;
}

/** Splits the meters into those that can start and those skipped before queueing. */
async function sortMeters(
  broker: Broker,
  meters: readonly MeterRef[],
  principal: Principal,
): Promise<{ startable: MeterRef[]; skipped: Skipped[] }> {
  const startable: MeterRef[] = [];
  const skipped: Skipped[] = [];
  const allowed = meters.filter((meter) => {
    if (mayUseMeter(principal, meter)) return true;
    skipped.push({
      ...meter,
      reason: "forbidden_meter",
      message: `${principal.name} may use only meters matching ${principal.meters!.join(", ")}.`,
    });
    return false;
  });
  const counts = await inChunks(allowed, (meter) => broker.countReadings(meter));
  allowed.forEach((meter, i) => {
    if (counts[i] > 0) startable.push(meter);
    else {
      skipped.push({
        ...meter,
        reason: "no_readings",
        message: `No readings are stored for ${
          meterKey(meter)
        }; upload them (POST /meters/${meter.meter_type}/${meter.meter_id}/readings) before training.`,
      });
    }
  });
  return { startable, skipped };
}

/** Builds `POST /batch` and `GET /groups/{group_id}`, to mount under `/trainmodel`. */
export function createBatchRoutes(deps: BatchRoutesDeps): OpenAPIHono {
  const routes = new OpenAPIHono({ strict: false, defaultHook: validationHook });

  // Documented, not validated by the route: the handler parses the body itself.
  routes.openAPIRegistry.registerPath(startBatchRoute);
  routes.post(
    "/batch",
    limitBody(MAX_BATCH_BODY_BYTES, `a batch names at most ${MAX_BATCH_METERS} meters.`),
    (c) => startBatch(c),
  );

  async function startBatch(c: Context) {
    const body = parseJsonBody(
      await c.req.text(),
      '{"meters": [{"meter_id": "meter_test_001", "meter_type": "electricity"}]}',
    );
    const parsed = batchRequestSchema.safeParse(body);
    if (!parsed.success) throw validationError(fieldProblems(parsed.error));
    const request = toBatchRequest(parsed.data);
    const principal = principalOf(c);
    const meters = request.meters ??
      await allMeters(deps.broker, request.allOf!, principal);
    const { startable, skipped } = await sortMeters(deps.broker, meters, principal);
    if (startable.length === 0) {
      throw new ApiError(
        422,
        "nothing_to_train",
        meters.length === 0
          ? `No ${request.allOf} meter has readings${
            principal.meters ? ` among those ${principal.name} may use` : ""
          }; upload readings first.`
          : "None of the meters named can be trained (each is in error.details.skipped, with why); nothing was queued.",
        { skipped },
      );
    }
    await checkQueueRoom(deps.broker, principal, deps.queueBounds, startable.length);
    const outcome = await deps.tracker.createGroup(
      startable,
      request.options,
      principal.via === "anonymous" ? undefined : principal.name,
    );
    for (const { meter, activeTaskId } of outcome.skipped) {
      skipped.push({
        ...meter,
        reason: "task_already_active",
        message: `${
          meterKey(meter)
        } already has a training task in progress (${activeTaskId}); follow it, or cancel it before starting another.`,
        task_id: activeTaskId,
      });
    }
    if (!outcome.group) {
      throw new ApiError(
        409,
        "nothing_to_train",
        "Every meter that could be trained already has a task in progress (each is in error.details.skipped); nothing was queued.",
        { skipped },
      );
    }
    const ids = outcome.created.map((task) => task.task_id);
    const streams = [];
    for (let i = 0; i < ids.length; i += MAX_STREAM_TASKS) {
      const taskIds = ids.slice(i, i + MAX_STREAM_TASKS);
      if (!deps.auth.enabledNow()) {
        streams.push({ task_ids: taskIds, stream_url: `/trainmodel/stream?task_ids=${taskIds}` });
        continue;
      }
      const grant = await mintFor(deps, principal.name, principal.meters, taskIds);
      streams.push({ task_ids: taskIds, stream_url: grant.stream_url, stream_token: grant.token });
    }
    const statusUrl = `/trainmodel/groups/${outcome.group.group_id}`;
    c.header("Location", statusUrl);
    return c.json({
      group_id: outcome.group.group_id,
      status_url: statusUrl,
      tasks: outcome.group.tasks,
      skipped,
      streams,
    }, 202);
  }

  routes.openapi(groupRoute, async (c) => {
    const groupId = c.req.valid("param").group_id;
    const group = TASK_ID_PATTERN.test(groupId) ? await deps.broker.getTaskGroup(groupId) : null;
    if (!group) {
      throw new ApiError(
        404,
        "group_not_found",
        `Task group "${
          groupId.slice(0, 64)
        }" is unknown or expired: groups are kept 7 days. Start one with POST /trainmodel/batch.`,
      );
    }
    for (const member of group.tasks) checkMeter(c, member);
    const tasks = await inChunks(
      group.tasks,
      async (member) => (await deps.broker.getTask(member.task_id))?.task ?? null,
    );
    return c.json({
      group_id: group.group_id,
      created_at: group.created_at,
      ...(group.requested_by === undefined ? {} : { requested_by: group.requested_by }),
      ...groupProgress(tasks),
      tasks: group.tasks.map((member, i) => ({
        ...member,
        status: tasks[i]?.status ?? null,
        progress: tasks[i]?.progress ?? null,
      })),
    }, 200);
  });

  return routes;
}
