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

/** Events handed over at once, at most: a replay goes out in slices of this many. */
export const MAX_BATCH = 64;

/**
 * Yields the task's events after `lastEventId` (or, without one, its current
 * state first), then live ones, until the task's final event or `signal`
 * aborts. Events come in batches, in order, of those available at once (up
 * to `MAX_BATCH`), so a replay is written in a few large writes rather than
 * one per event. The watcher is removed when the generator finishes.
 */
export async function* followTask(
  sources: FeedSources,
  taskId: string,
  lastEventId: string | null,
  signal: AbortSignal,
): AsyncGenerator<TaskEvent[], void, undefined> {
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
    // Read from the front without shifting: a replay's backlog is long.
    let backlog: readonly TaskEvent[];
    let next = 0;
    // A backlog as read is in order and after `last`: its events need no
    // check against what was sent (a long replay skips a compare per event).
    let ordered = true;
    if (last === null) {
      const current = await sources.broker.getTask(taskId);
      backlog = current ? [current] : [];
    } else {
      // Shared: coalesced reads hand the same array to every stream resuming
      // from this id at once; it is only read here.
      backlog = await sources.broker.readEvents(taskId, last);
    }
    while (!signal.aborted) {
      if (resync && last !== null) {
        resync = false;
        backlog = [...backlog.slice(next), ...await sources.broker.readEvents(taskId, last)];
        next = 0;
        ordered = false;
      }
      const batch: TaskEvent[] = [];
      let final = false;
      while (batch.length < MAX_BATCH && !final) {
        const fromBacklog = next < backlog.length;
        const event = fromBacklog ? backlog[next++] : live.shift();
        if (!event) break;
        if (!(fromBacklog && ordered) && last !== null && compareEventIds(event.id, last) <= 0) {
          continue;
        }
        last = event.id;
        batch.push(event);
        final = isFinal(event.task.status);
      }
      if (batch.length === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      yield batch;
      if (final) return;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    unwatch();
  }
}
