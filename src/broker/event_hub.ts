/**
 * Fans one upstream subscription out to many watchers, by task. Each
 * process holds one broker subscription for all task events however many
 * streams it serves; watchers come and go in memory.
 *
 * @module
 */
import type { Broker, TaskEventListener, Unsubscribe } from "./broker.ts";
import { callEach } from "./listeners.ts";

/** Fans task events out to per-task watchers. */
export interface EventHub {
  /** Watches one task's events; resolves once the upstream feed is live. */
  watch(taskId: string, listener: TaskEventListener): Promise<Unsubscribe>;
  /** Watches every task's events; resolves once the upstream feed is live. */
  watchAll(listener: TaskEventListener): Promise<Unsubscribe>;
  /** Watchers registered now, across all tasks. */
  watchers(): number;
  /** Drops the upstream subscription and every watcher. */
  close(): void;
}

/** Creates a hub on top of a broker's subscription. */
export function createEventHub(broker: Broker): EventHub {
  const byTask = new Map<string, Set<TaskEventListener>>();
  const ofAll = new Set<TaskEventListener>();
  let upstream: Promise<Unsubscribe> | undefined;
  let closed = false;

  function each(fn: (listener: TaskEventListener) => void, taskId?: string) {
    const sets = taskId === undefined ? [...byTask.values()] : [byTask.get(taskId)];
    for (const set of sets) callEach(set ?? [], fn, "A task event watcher");
    callEach(ofAll, fn, "A watcher of every task");
  }

  function connect(): Promise<Unsubscribe> {
    upstream ??= broker.subscribe({
      onEvent: (event) => each((l) => l.onEvent(event), event.task.task_id),
      onResync: () => each((l) => l.onResync?.()),
    }).catch((error) => {
      upstream = undefined;
      throw error;
    });
    return upstream;
  }

  return {
    async watch(taskId, listener) {
      if (closed) throw new Error("The event hub is closed.");
      let set = byTask.get(taskId);
      if (!set) byTask.set(taskId, set = new Set());
      set.add(listener);
      const unwatch = () => {
        const current = byTask.get(taskId);
        if (!current?.delete(listener)) return;
        if (current.size === 0) byTask.delete(taskId);
      };
      try {
        await connect();
      } catch (error) {
        unwatch();
        throw error;
      }
      return unwatch;
    },

    async watchAll(listener) {
      if (closed) throw new Error("The event hub is closed.");
      ofAll.add(listener);
      const unwatch = () => void ofAll.delete(listener);
      try {
        await connect();
      } catch (error) {
        unwatch();
        throw error;
      }
      return unwatch;
    },

    watchers() {
      let n = ofAll.size;
      for (const set of byTask.values()) n += set.size;
      return n;
    },

    close() {
      closed = true;
      byTask.clear();
      ofAll.clear();
      upstream?.then((unsubscribe) => unsubscribe(), () => {});
      upstream = undefined;
    },
  };
}
