/**
 * One log line per task status change this process sees (task id, meter,
 * status, attempt; the error code of a failure); epoch updates within
 * `TRAINING_MODEL` are debug lines.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { isFinal, type Task } from "../domain/task.ts";

/** Tasks whose last status is remembered at most (to tell a change from an update). */
const REMEMBERED = 10_000;

/** Returns what to call with each task status event. */
export function taskChangeLog(log: Logger): (task: Task) => void {
  const last = new Map<string, string>();
  return (task) => {
    const changed = last.get(task.task_id) !== task.status;
    if (isFinal(task.status)) last.delete(task.task_id);
    else {
      if (last.size >= REMEMBERED && !last.has(task.task_id)) last.clear();
      last.set(task.task_id, task.status);
    }
    const fields = {
      task_id: task.task_id,
      meter: `${task.meter_type}/${task.meter_id}`,
      status: task.status,
      attempt: task.attempt,
      progress: task.progress,
      ...(task.error_details ? { error_code: task.error_details.code } : {}),
    };
    const message = task.error_details
      ? "task {task_id} {meter} {status} attempt={attempt} error_code={error_code}"
      : "task {task_id} {meter} {status} attempt={attempt} progress={progress}";
    if (!changed) log.debug(message, fields);
    else if (task.status === "FAILURE") log.warn(message, fields);
    else log.info(message, fields);
  };
}
