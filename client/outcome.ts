/**
 * How a run of the client ends: the exit code for the tasks' final
 * statuses, and one line per task saying how it ended.
 *
 * @module
 */
import type { Task } from "../src/domain/task.ts";
import { EXIT, type ExitCode } from "./exit_codes.ts";

/** The exit code for these final tasks: any FAILURE is 1, else any CANCELLED is 3, else 0. */
export function exitCodeOf(finals: readonly Task[]): ExitCode {
  if (finals.some((t) => t.status === "FAILURE")) return EXIT.failure;
  if (finals.some((t) => t.status === "CANCELLED")) return EXIT.cancelled;
  if (finals.length && finals.every((t) => t.status === "SUCCESS")) return EXIT.success;
  return EXIT.failure;
}

/** One line saying how a task ended, in plain words. */
export function endingLine(task: Task): string {
  const who = `${task.meter_type}/${task.meter_id} (task ${task.task_id})`;
  const took = (Date.parse(task.updated_at) - Date.parse(task.created_at)) / 1000;
  const time = Number.isFinite(took) ? ` after ${took.toFixed(1)} s` : "";
  if (task.status === "SUCCESS") {
    return `${who}: SUCCESS${time}. ${task.result?.message ?? task.message}`;
  }
  if (task.status === "CANCELLED") return `${who}: CANCELLED${time}. ${task.message}`;
  const hint = task.error_details?.hint ? ` ${task.error_details.hint}` : "";
  // The server's errors are sentences already; the ones without a full stop get one.
  const error = (task.error ?? task.message).replace(/([^.!?])$/, "$1.");
  return `${who}: FAILURE${time}: ${error}${hint}`;
}
