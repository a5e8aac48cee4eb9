/**
 * Shares reads of task state between streams: when thousands of clients
 * connect to one task at once (say, reconnecting after an API restart, or
 * replaying its whole history), they share one broker read, one set of event
 * objects and so one encoded SSE frame per event, instead of each making its
 * own.
 *
 * Identical reads in flight are made once. With the event hub, a finished
 * read is also kept for `keepMs`, and dropped the moment the hub sees a new
 * event of that task (or resyncs). That is safe for the streams' "subscribe,
 * then read" order: the keeper watches the task before its read starts, so
 * a kept result lacks only events the hub has not delivered yet, and a
 * stream that subscribed before reading gets those live.
 *
 * @module
 */
import type { Broker, Unsubscribe } from "../broker/broker.ts";
import type { EventHub } from "../broker/event_hub.ts";
import type { TaskEvent } from "../domain/task.ts";

/** The reads a stream makes when it starts. */
export type TaskReads = Pick<Broker, "getTask" | "readEvents">;

/** How long a finished read is kept by default, unless the task changes. */
export const KEEP_READS_MS = 5_000;

/** Tasks whose reads are kept at once, at most. */
const MAX_KEPT_TASKS = 256;

interface Kept {
  reads: Map<string, Promise<unknown>>;
  unwatch: Promise<Unsubscribe>;
  /** When the reads stop being kept (checked on use: no timers to clear). */
  until: number;
}

/**
 * Wraps a broker's task reads so identical reads in flight are made once,
 * and, given the event hub, kept until the task changes or `keepMs` passes.
 */
export function coalesceReads(
  broker: TaskReads,
  hub?: EventHub,
  keepMs = KEEP_READS_MS,
): TaskReads {
  const inFlight = new Map<string, Promise<unknown>>();
  const kept = new Map<string, Kept>();

  function forget(taskId: string): void {
    const entry = kept.get(taskId);
    if (!entry) return;
    kept.delete(taskId);
    entry.unwatch.then((unwatch) => unwatch(), () => {});
  }

  /** The task's kept reads, watching it first; null when they cannot be kept. */
  async function keeper(taskId: string): Promise<Kept | null> {
    if (!hub) return null;
    let entry = kept.get(taskId);
    if (!entry) {
      for (const [id, old] of kept) {
        if (old.until > Date.now() && kept.size < MAX_KEPT_TASKS) break;
        forget(id); // the oldest first: expired, or one too many
      }
      const created: Kept = {
        reads: new Map(),
        unwatch: hub.watch(taskId, {
          onEvent: () => forget(taskId),
          onResync: () => forget(taskId),
        }),
        until: Date.now() + keepMs,
      };
      kept.set(taskId, entry = created);
    }
    try {
      await entry.unwatch;
    } catch {
      forget(taskId);
      return null;
    }
    // Dropped while the watch started: a change arrived, don't keep.
    return kept.get(taskId) === entry ? entry : null;
  }

  function once<T>(taskId: string, key: string, read: () => Promise<T>): Promise<T> {
    const entry = kept.get(taskId);
    if (entry && entry.until <= Date.now()) forget(taskId);
    const keptRead = kept.get(taskId)?.reads.get(key) as Promise<T> | undefined;
    if (keptRead) return keptRead;
    let pending = inFlight.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = (async () => {
        const entry = await keeper(taskId);
        const result = read();
        entry?.reads.set(key, result);
        result.catch(() => entry?.reads.delete(key));
        return await result;
      })().finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  }

  return {
    getTask: (taskId) =>
      once<TaskEvent | null>(taskId, `task ${taskId}`, () => broker.getTask(taskId)),
    readEvents: (taskId, afterId) =>
      once<TaskEvent[]>(
        taskId,
        `events ${taskId} ${afterId}`,
        () => broker.readEvents(taskId, afterId),
      ),
  };
}
