/**
 * The job queue's bounds: how many tasks may wait or train at once, in all
 * and per principal. Past the first, starting a task is a `503` (the
 * service is full); past the second a `429` (this caller has enough queued);
 * both with `Retry-After`, and nothing is queued.
 *
 * The count is of active tasks (queued, retrying or training), read from
 * the broker's task listing, so every API instance sees the same queue. It
 * is read before the task is created, not in the same step: requests that
 * arrive together can pass it together, so the queue may exceed a bound by
 * as many tasks as are being started at that moment (a few), never by more.
 *
 * @module
 */
import type { Broker } from "../broker/broker.ts";
import type { Principal } from "../domain/principal.ts";
import { FINAL_STATUSES, TASK_STATUSES } from "../domain/task.ts";
import { ApiError } from "./errors.ts";

/** How many active tasks there may be. */
export interface QueueBounds {
  total: number;
  perPrincipal: number;
}

const ACTIVE = TASK_STATUSES.filter((status) => !FINAL_STATUSES.has(status));

/** Seconds a refused client is told to wait: about one training run. */
const RETRY_AFTER_SECONDS = 30;

/** Throws the `503` or `429` when starting one more task would pass a bound. */
export async function checkQueueRoom(
  broker: Pick<Broker, "listTasks">,
  principal: Principal,
  bounds: QueueBounds,
): Promise<void> {
  let total = 0;
  let mine = 0;
  let after: string | null = null;
  do {
    const page = await broker.listTasks({ limit: 200, after, status: ACTIVE });
    total += page.tasks.length;
    if (principal.via !== "anonymous") {
      mine += page.tasks.filter((task) => task.requested_by === principal.name).length;
    }
    after = page.next;
  } while (after !== null && total < bounds.total);
  const headers = { "Retry-After": String(RETRY_AFTER_SECONDS) };
  if (total >= bounds.total) {
    throw new ApiError(
      503,
      "queue_full",
      `The training queue is full (${bounds.total} tasks waiting or training); nothing was queued. Try again in a minute.`,
      { active_tasks: total, limit: bounds.total },
      headers,
    );
  }
  if (mine >= bounds.perPrincipal) {
    throw new ApiError(
      429,
      "too_many_queued_tasks",
      `${principal.name} already has ${mine} tasks waiting or training, the most one caller may have (MAX_QUEUED_TASKS_PER_PRINCIPAL); nothing was queued. Wait for some to finish, or cancel some.`,
      { active_tasks: mine, limit: bounds.perPrincipal },
      headers,
    );
  }
}
