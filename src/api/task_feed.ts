/**
 * Follows one task's events for a stream: subscribes first, then reads the
 * log from the last event id the client has (or the current state), then
 * merges live events, dropping any it has already sent by id. Nothing is
 * lost in the gap between reading and subscribing, nothing is repeated, and
 * a resync (the upstream feed was interrupted) catches up from the log.
 *
 * @module
 */
import type { TaskReads } from "./coalesced_reads.ts";
import { compareEventIds } from "../broker/event_id.ts";
import type { EventHub } from "../broker/event_hub.ts";
import { isFinal, type TaskEvent } from "../domain/task.ts";

/** Where a feed reads from. */
export interface FeedSources {
  /** Where the log and current state are read (coalesced in the API). */
  broker: TaskReads;
  hub: EventHub;
}

/**
 * Yields the task's events after `lastEventId` (or, without one, its current
 * state first), then live ones, until the task's final event or `signal`
 * aborts. The watcher is removed when the generator finishes.
 */
export async function* followTask(
  sources: FeedSources,
  taskId: string,
  lastEventId: string | null,
  signal: AbortSignal,
): AsyncGenerator<TaskEvent, void, undefined> {
  const live: TaskEvent[] = [];
  let resync = false;
  let wake: (() => void) | undefined;
  const onAbort = () => wake?.();
  signal.addEventListener("abort", onAbort);
  const unwatch = await sources.hub.watch(taskId, {
    onEvent(event) {
      live.push(event);
      wake?.();
    },
    onResync() {
      resync = true;
      wake?.();
    },
  });
  try {
    let last = lastEventId;
    let backlog: TaskEvent[];
    if (last === null) {
      const current = await sources.broker.getTask(taskId);
      backlog = current ? [current] : [];
    } else {
      // A copy: coalesced reads hand the same array to every stream resuming
      // from this id at once, and this feed consumes its backlog.
      backlog = [...await sources.broker.readEvents(taskId, last)];
    }
    while (!signal.aborted) {
      if (resync && last !== null) {
        resync = false;
        backlog.push(...await sources.broker.readEvents(taskId, last));
      }
      const event = backlog.shift() ?? live.shift();
      if (!event) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      if (last !== null && compareEventIds(event.id, last) <= 0) continue;
      last = event.id;
      yield event;
      if (isFinal(event.task.status)) return;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    unwatch();
  }
}
