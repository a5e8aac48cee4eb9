/**
 * Task groups: the tasks one batch request started (`POST /trainmodel/batch`),
 * kept together so their progress can be read as one, and so the job queue
 * can take turns between groups instead of running one group to the end
 * before anything queued after it.
 *
 * @module
 */
import type { MeterRef } from "./meter.ts";
import { isFinal, type Task } from "./task.ts";

/** How long a group's record is kept after it was created. */
export const GROUP_TTL_SECONDS = 7 * 24 * 3600;

/** One task of a group: its id and meter, known even after the task expired. */
export interface GroupMember extends MeterRef {
  task_id: string;
}

/** A group as the broker stores it. */
export interface TaskGroup {
  group_id: string;
  created_at: string;
  /** Who started it (the principal's name), when authentication is on. */
  requested_by?: string;
  /** Its tasks, in the order they were asked for. */
  tasks: GroupMember[];
}

/** A group's progress: how many of its tasks are where. */
export interface GroupProgress {
  total: number;
  /** Waiting for a worker (`PENDING`, `RETRYING`). */
  queued: number;
  /** Being trained (`FETCHING_DATA` to `SAVING_MODEL`). */
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  /** No longer kept (finished longer than `TASK_TTL_SECONDS` ago). */
  expired: number;
  /** True when every task has ended (or expired). */
  done: boolean;
}

/** Counts where a group's tasks are; `tasks[i]` is member i's state, null when expired. */
export function groupProgress(tasks: readonly (Task | null)[]): GroupProgress {
  const progress: GroupProgress = {
    total: tasks.length,
    queued: 0,
    running: 0,
    succeeded: 0,
    failed: 0,
    cancelled: 0,
    expired: 0,
    done: false,
  };
  for (const task of tasks) {
    if (!task) progress.expired++;
    else if (task.status === "SUCCESS") progress.succeeded++;
    else if (task.status === "FAILURE") progress.failed++;
    else if (task.status === "CANCELLED") progress.cancelled++;
    else if (task.status === "PENDING" || task.status === "RETRYING") progress.queued++;
    else progress.running++;
  }
  progress.done = tasks.every((task) => !task || isFinal(task.status));
  return progress;
}
