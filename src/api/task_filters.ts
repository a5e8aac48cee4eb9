/**
 * The filters a task listing and the all-task stream share: `status` (a
 * comma-separated list), `meter_type` and `meter_id`, checked together so
 * one `422` names every bad one.
 *
 * @module
 */
import { type Task, TASK_STATUSES, type TaskStatus } from "../domain/task.ts";
import { METER_TYPES, meterIdProblem, type MeterType } from "../domain/meter.ts";
import { type FieldProblem, validationError } from "./errors.ts";

/** Which tasks a client asks for; absent fields do not filter. */
export interface TaskFilters {
  status?: TaskStatus[];
  meterType?: MeterType;
  meterId?: string;
}

/** Reads the filters from a query string; a 422 naming each bad value. */
export function taskFilters(query: Record<string, string | undefined>): TaskFilters {
  const fields: FieldProblem[] = [];
  const status = query.status?.split(",").map((s) => s.trim().toUpperCase());
  const unknown = status?.filter((s) => !(TASK_STATUSES as readonly string[]).includes(s));
  if (unknown?.length) {
    fields.push({
      field: "status",
      message: `${unknown.join(", ")} is not a status; use any of ${TASK_STATUSES.join(", ")}`,
    });
  }
  if (query.meter_type && !(METER_TYPES as readonly string[]).includes(query.meter_type)) {
    fields.push({ field: "meter_type", message: `must be one of: ${METER_TYPES.join(", ")}` });
  }
  const idProblem = query.meter_id === undefined ? null : meterIdProblem(query.meter_id);
  if (idProblem) fields.push({ field: "meter_id", message: idProblem });
  if (fields.length) throw validationError(fields);
  return {
    status: status as TaskStatus[] | undefined,
    meterType: query.meter_type as MeterType | undefined,
    meterId: query.meter_id,
  };
}

/** True when `task` passes the filters. */
export function passes(task: Task, filters: TaskFilters): boolean {
  return (!filters.status || filters.status.includes(task.status)) &&
    (!filters.meterType || task.meter_type === filters.meterType) &&
    (!filters.meterId || task.meter_id === filters.meterId);
}
