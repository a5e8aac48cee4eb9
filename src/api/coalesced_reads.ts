/**
 * Coalesces concurrent identical reads of task state: when thousands of
 * clients connect to one task at once (say, reconnecting after an API
 * restart), they share one Redis read, one event object and so one encoded
 * SSE frame, instead of each making its own.
 *
 * @module
 */
import type { Broker } from "../broker/broker.ts";
import type { TaskEvent } from "../domain/task.ts";

/** The reads a stream makes when it starts. */
export type TaskReads = Pick<Broker, "getTask" | "readEvents">;

/** Wraps a broker's task reads so identical reads in flight are made once. */
export function coalesceReads(broker: TaskReads): TaskReads {
  const inFlight = new Map<string, Promise<unknown>>();
  function once<T>(key: string, read: () => Promise<T>): Promise<T> {
    let pending = inFlight.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = read().finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  }
  return {
    getTask: (taskId) => once<TaskEvent | null>(`task ${taskId}`, () => broker.getTask(taskId)),
    readEvents: (taskId, afterId) =>
      once<TaskEvent[]>(`events ${taskId} ${afterId}`, () => broker.readEvents(taskId, afterId)),
  };
}
