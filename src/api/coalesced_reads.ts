/**
 * Shares reads of task state between streams: when thousands of clients
 * connect to one task at once (say, reconnecting after an API restart, or
 * replaying its whole history), they share one broker read, one set of event
 * objects and so one encoded SSE frame per event, instead of each making its
 * own.
 *
 * With the event hub, a read is kept (while in flight, then for `keepMs`)
 * and dropped, in flight or not, the moment the hub delivers a new event of
 * that task (or resyncs). That keeps the streams' "subscribe, then read"
 * order whole: the keeper watches the task before its read starts, so a
 * shared result lacks only events the hub had not delivered when the caller
 * asked, and the caller, watching since before it asked, gets those live.
 * Without the hub, only identical reads in flight are shared.
 *
 * @module
 */
import type { Broker, Unsubscribe } from "../broker/broker.ts";
import type { EventHub } from "../broker/event_hub.ts";
import type { TaskEvent } from "../domain/task.ts";

/** The reads a stream makes when it starts. */
export type TaskReads = Pick<Broker, "getTask" | "readEvents">;

/** How long a read is kept by default, unless the task changes. */
export const KEEP_READS_MS = 5_000;

/** Tasks whose reads are kept at once, at most. */
const MAX_KEPT_TASKS = 256;

/** Distinct reads kept per task, at most (replays from many different ids are not kept). */
const MAX_READS_PER_TASK = 4;

interface Kept {
  /** Reads in flight or done, by what they read. */
  reads: Map<string, Promise<unknown>>;
  unwatch: Promise<Unsubscribe>;
  /** When the reads stop being kept (checked on use: no timers to clear). */
  until: number;
}

/**
 * Wraps a broker's task reads so identical reads are made once: with the
 * event hub, kept (in flight and done) until the task changes or `keepMs`
 * passes; without it, shared only while in flight.
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

  /** Forgets expired entries (the oldest first), and the oldest past the limit. */
  function sweep(): void {
    const now = Date.now();
    for (const [id, entry] of kept) {
      if (entry.until > now && kept.size < MAX_KEPT_TASKS) break;
      forget(id);
    }
  }

  /**
   * A read shared through the task's kept entry. The entry watches the task
   * before any of its reads starts, and is dropped (with its reads, even
   * those in flight) when a change is delivered: a caller that watched the
   * task before asking never joins a read older than a change it missed.
   */
  function kept$<T>(taskId: string, key: string, read: () => Promise<T>): Promise<T> {
    sweep();
    let entry = kept.get(taskId);
    const shared = entry?.reads.get(key) as Promise<T> | undefined;
    if (shared) return shared;
    if (!entry) {
      const created: Kept = {
        reads: new Map(),
        unwatch: hub!.watch(taskId, {
          onEvent: () => forget(taskId),
          onResync: () => forget(taskId),
        }),
        until: Date.now() + keepMs,
      };
      kept.set(taskId, entry = created);
    }
    const owner = entry;
    const result = (async () => {
      await owner.unwatch; // watching before reading
      return await read();
    })();
    if (owner.reads.size < MAX_READS_PER_TASK) owner.reads.set(key, result);
    result.catch(() => {
      if (owner.reads.get(key) === result) owner.reads.delete(key);
    });
    owner.unwatch.catch(() => forget(taskId));
    return result;
  }

  function inFlight$<T>(key: string, read: () => Promise<T>): Promise<T> {
    let pending = inFlight.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = read().finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  }

  const once = <T>(taskId: string, key: string, read: () => Promise<T>): Promise<T> =>
    hub ? kept$(taskId, key, read) : inFlight$(key, read);

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
