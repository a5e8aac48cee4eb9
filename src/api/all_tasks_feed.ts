/**
 * Follows every task's events for an all-task stream, through the broker's
 * log of all events (`readAllEvents`): its positions (`seq`) increase in
 * commit order across tasks, so one position says where a client is in
 * every task at once, and the stream's cursor stays one short id however
 * many tasks there are.
 *
 * Ordering, as in `task_feed.ts`: watch first, then read the log from the
 * client's position (or only the head, to start from now), then merge live
 * events, dropping any at or before the last position handed over. Every
 * broker publishes in commit order, so live events come in `seq` order; a
 * resync (the upstream feed was interrupted) catches up from the log.
 *
 * @module
 */
import type { Broker } from "../broker/broker.ts";
import type { EventHub } from "../broker/event_hub.ts";
import { compareEventIds } from "../broker/event_id.ts";
import type { TaskEvent } from "../domain/task.ts";

/** Where the feed reads from. */
export interface AllTasksSources {
  broker: Pick<Broker, "readAllEvents">;
  hub: EventHub;
}

/** What the feed hands over, in order. */
export type AllTasksItem =
  /** Where a feed without a position starts: the log's head. */
  | { kind: "start"; position: string }
  /** Events after the position asked for are gone: the client missed some. */
  | { kind: "gap" }
  /** Events in log order, each with its `seq`. */
  | { kind: "events"; events: TaskEvent[] };

/** Events read from the log at once, at most. */
export const LOG_PAGE = 256;

/**
 * Yields every task's events after `after` (a `seq`; null: from now, after
 * a `start` item), then live ones, until `signal` aborts. The watcher is
 * removed when the generator finishes.
 */
export async function* followAllTasks(
  sources: AllTasksSources,
  after: string | null,
  signal: AbortSignal,
): AsyncGenerator<AllTasksItem, void, undefined> {
  let live: TaskEvent[] = [];
  let resync = false;
  let wake: (() => void) | undefined;
  const onAbort = () => wake?.();
  signal.addEventListener("abort", onAbort);
  const unwatch = await sources.hub.watchAll({
    onEvent(event) {
      if (event.seq === undefined) return; // not in the log (a publisher of an older version)
      live.push(event);
      wake?.();
    },
    onResync() {
      resync = true;
      wake?.();
    },
  });
  try {
    let last: string;
    let catchUp: boolean;
    if (after === null) {
      last = (await sources.broker.readAllEvents(null, 0)).head;
      catchUp = false;
      yield { kind: "start", position: last };
    } else {
      last = after;
      catchUp = true;
    }
    let first = true;
    while (!signal.aborted) {
      if (catchUp || resync) {
        resync = false;
        const page = await sources.broker.readAllEvents(last, LOG_PAGE);
        if (first && page.gap) yield { kind: "gap" };
        first = false;
        catchUp = page.events.length === LOG_PAGE;
        if (page.events.length > 0) {
          last = page.events.at(-1)!.seq!;
          yield { kind: "events", events: page.events };
        }
        continue;
      }
      const fresh = live.filter((event) => compareEventIds(event.seq!, last) > 0);
      live = [];
      if (fresh.length === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      last = fresh.at(-1)!.seq!;
      yield { kind: "events", events: fresh };
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    unwatch();
  }
}
