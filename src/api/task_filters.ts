/**
 * Which tasks a client asks for (`status`, `meter_type`, `meter_id`, as
 * `request_schemas.ts` checks them), and whether a task passes: what the
 * all-task stream filters its events by.
 *
 * @module
 */
import type { Task, TaskStatus } from "../domain/task.ts";
import type { MeterType } from "../domain/meter.ts";

/** Which tasks a client asks for; absent fields do not filter. */
export interface TaskFilters {
  status?: TaskStatus[];
  meterType?: MeterType;
  meterId?: string;
  /** The meters the client may see (its principal's restriction). */
  visible?: (meter: { meter_id: string }) => boolean;
}

/** True when `task` passes the filters. */
export function passes(task: Task, filters: TaskFilters): boolean {
  return (!filters.status || filters.status.includes(task.status)) &&
    (!filters.meterType || task.meter_type === filters.meterType) &&
    (!filters.meterId || task.meter_id === filters.meterId) &&
    (!filters.visible || filters.visible(task));
}
