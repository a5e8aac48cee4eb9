/**
 * A job's reports to the task tracker, in order. Each rides out a broker
 * restart with retries. A progress report that still fails is skipped (the
 * next one carries newer progress); a stage change that fails rejects, so
 * the job stops unacknowledged, its lease runs out, and another attempt
 * runs it. When the tracker refuses a report (the task was cancelled, or a
 * newer attempt owns it), the job is stopped as cancelled.
 *
 * @module
 */
import type { Task } from "../domain/task.ts";
import type { TaskChange, TaskTracker } from "../tracker/tracker.ts";
import { durably } from "./durably.ts";
import { JobStopped } from "./failure_policy.ts";
import { logger } from "../logging/logging.ts";

const log = logger("jobs");

/** Reports of one job delivery. */
export interface Reporter {
  /**
   * Queues a report behind the earlier ones. `essential: false` marks a
   * progress report whose failure is logged and skipped.
   */
  report(change: TaskChange, essential?: boolean): Promise<Task | null>;
  /** Reports a stage change, then throws if the job has been stopped. */
  step(change: TaskChange): Promise<void>;
  /** Resolves once every queued report has been sent (or skipped). */
  settled(): Promise<unknown>;
}

/** Creates the reporter of one delivery of a task's job. */
export function createReporter(
  tracker: TaskTracker,
  taskId: string,
  attempt: number,
  controller: AbortController,
): Reporter {
  const signal = controller.signal;
  let queue = Promise.resolve<Task | null>(null);

  function report(change: TaskChange, essential = true): Promise<Task | null> {
    const next = queue.then(async () => {
      if (signal.aborted) return null;
      const task = await durably(
        `Reporting ${change.status} for task ${taskId}`,
        () => tracker.update(taskId, { ...change, attempt }),
        signal,
      );
      if (!task) controller.abort(new JobStopped("cancelled"));
      return task;
    });
    queue = essential ? next : next.catch((error) => {
      log.warn(`Skipped a progress report of task ${taskId}: {error}`, { error: String(error) });
      return null;
    });
    return next;
  }

  return {
    report,
    async step(change) {
      await report(change);
      signal.throwIfAborted();
    },
    settled: () => queue.catch(() => null),
  };
}
