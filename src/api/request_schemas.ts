/**
 * What requests may say in their paths, query strings and headers, as zod
 * schemas: the routes validate with them (`app.openapi(route, …)`, bad ones
 * answered by `validationHook` as a 422 naming each field) and the OpenAPI
 * document is generated from them, so the two cannot disagree.
 *
 * Query values arrive as strings, and several are lists in one value
 * (`status=PENDING,SUCCESS`): they are checked as strings with the messages
 * the API has always given, and their metadata tells the document what they
 * hold (an integer from 1 to 200, say).
 *
 * @module
 */
import { z } from "zod";
import { METER_ID_PATTERN, METER_TYPES, meterIdProblem } from "../domain/meter.ts";
import { TASK_STATUSES, type TaskStatus } from "../domain/task.ts";
import { MAX_STREAM_TASKS } from "./multi_stream.ts";
import { EVENT_KINDS, type EventKind } from "./task_stream.ts";

/** What task ids look like (UUIDs); any other id names no task. */
export const TASK_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A zod check that reports `problem(value)` as the field's message when it is not null. */
export function problemCheck(problem: (value: string) => string | null) {
  return (ctx: z.core.ParsePayload<string>) => {
    const message = problem(ctx.value);
    if (message !== null) ctx.issues.push({ code: "custom", message, input: ctx.value });
  };
}

/** A meter type in a path or query. */
export const meterTypeParam = z.enum(METER_TYPES, {
  error: `must be one of: ${METER_TYPES.join(", ")}`,
}).meta({ description: "The kind of meter" });

/** A meter id in a path or query. */
export const meterIdParam = z.string().check(problemCheck(meterIdProblem)).meta({
  description:
    "1 to 64 letters, digits, `_` or `-`, starting with a letter or digit; not a device name file systems reserve (CON, NUL, COM1…)",
  pattern: METER_ID_PATTERN.source,
  example: "meter_test_001",
});

/** `/{meter_type}/{meter_id}`. */
export const meterParamsSchema = z.object({
  meter_type: meterTypeParam,
  meter_id: meterIdParam,
});

/** `/{task_id}`: any string; one that names no task is a 404, not a 422. */
export const taskIdParamsSchema = z.object({
  task_id: z.string().meta({
    description: "The task's id (a UUID), as `POST /trainmodel/` answered it",
    format: "uuid",
  }),
});

/** The ids a `task_ids` value lists. */
export function taskIds(value: string | undefined): string[] {
  return (value ?? "").split(",").map((id) => id.trim()).filter(Boolean);
}

/** What is wrong with a `task_ids` value, in words; null when it is fine. */
export function taskIdsProblem(value: string): string | null {
  const ids = taskIds(value);
  const badId = ids.find((id) => !TASK_ID_PATTERN.test(id));
  if (badId) return `"${badId.slice(0, 64)}" is not a task id (task ids are UUIDs)`;
  if (ids.length === 0 || ids.length > MAX_STREAM_TASKS || new Set(ids).size < ids.length) {
    return `must list 1 to ${MAX_STREAM_TASKS} different task ids, separated by commas`;
  }
  return null;
}

/** `?task_ids=`: the tasks of a stream of several (required; a missing one is a 422 like a bad one). */
export const taskIdsParam = z.preprocess(
  (value) => value ?? "",
  z.string().check(problemCheck(taskIdsProblem)),
).meta({
  description:
    `1 to ${MAX_STREAM_TASKS} different task ids, separated by commas; the stream's cursor fits only the same list, in the same order`,
});

/** What is wrong with an `events` value, in words; null when it is fine. */
export function eventKindsProblem(value: string): string | null {
  const asked = value.split(",").map((kind) => kind.trim()).filter(Boolean);
  const unknown = asked.filter((kind) => !(EVENT_KINDS as readonly string[]).includes(kind));
  if (!unknown.length && asked.length > 0) return null;
  return `${
    unknown.length ? `${unknown.join(", ")} is not a kind of event; ` : ""
  }use one or more of ${EVENT_KINDS.join(", ")}, separated by commas`;
}

/** The kinds of event an `events` value asks for (checked by `eventsParam`); every kind without one. */
export function eventKinds(value: string | undefined): ReadonlySet<EventKind> {
  if (value === undefined) return new Set(EVENT_KINDS);
  return new Set(value.split(",").map((kind) => kind.trim()).filter(Boolean) as EventKind[]);
}

/** `?events=`: which kinds of event a stream carries. */
export const eventsParam = z.string().check(problemCheck(eventKindsProblem)).optional().meta({
  description: `Comma-separated kinds of event to send, of ${
    EVENT_KINDS.join(", ")
  } (all without it). Without status events the stream still ends with the task.`,
  example: "status,error",
});

/** The statuses a `status` value names, upper-cased; undefined without one. */
export function taskStatuses(value: string | undefined): TaskStatus[] | undefined {
  return value?.split(",").map((s) => s.trim().toUpperCase()) as TaskStatus[] | undefined;
}

/** What is wrong with a `status` value, in words; null when it is fine. */
export function taskStatusesProblem(value: string): string | null {
  const unknown = taskStatuses(value)!.filter((s) =>
    !(TASK_STATUSES as readonly string[]).includes(s)
  );
  if (!unknown.length) return null;
  return `${unknown.join(", ")} is not a status; use any of ${TASK_STATUSES.join(", ")}`;
}

/** `?status=`: comma-separated task statuses. */
export const statusesParam = z.string().check(problemCheck(taskStatusesProblem)).optional().meta({
  description: `Comma-separated task statuses, any of ${TASK_STATUSES.join(", ")}`,
  example: "PENDING,TRAINING_MODEL",
});

/** `?meter_type=` as a filter: empty is the same as absent. */
export const meterTypeFilter = z.preprocess(
  (value) => value === "" ? undefined : value,
  meterTypeParam.optional(),
);

/** The `Last-Event-ID` header a client resumes with. */
export const lastEventIdHeaderSchema = z.object({
  "Last-Event-ID": z.string().optional().meta({
    description:
      "The `id:` of the last event received (EventSource sends it on reconnecting): the stream resumes after it, nothing lost or repeated",
  }),
});
