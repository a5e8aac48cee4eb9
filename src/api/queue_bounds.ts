/**
 * The job queue's bounds: how many tasks may wait or train at once, in all
 * and per principal. Past the first, starting a task is a `503` (the
 * service is full); past the second a `429` (this caller has enough queued);
 * both with `Retry-After`, and nothing is queued. A batch is measured whole:
 * it is queued only if all its tasks fit, and the refusal says how many do.
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

/** Throws the `503` or `429` when starting `count` more tasks would pass a bound. */
export async function checkQueueRoom(
  broker: Pick<Broker, "listTasks">,
  principal: Principal,
  bounds: QueueBounds,
  count = 1,
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
  if (count > 1) return checkBatchRoom(total, mine, principal, bounds, count, headers);
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

/** The refusals of a batch of `count` tasks, naming how many would fit. */
function checkBatchRoom(
  total: number,
  mine: number,
  principal: Principal,
  bounds: QueueBounds,
  count: number,
  headers: Record<string, string>,
): void {
  const room = Math.max(0, bounds.total - total);
  if (count > room) {
    throw new ApiError(
      503,
      "queue_full",
      `The training queue has room for ${room} more tasks (${total} of ${bounds.total} waiting or training), not the ${count} of this batch; nothing was queued. Send at most ${room} meters, or try again when some have finished.`,
      { active_tasks: total, limit: bounds.total, requested: count, room },
      headers,
    );
  }
  const mineRoom = principal.via === "anonymous"
    ? Infinity
    : Math.max(0, bounds.perPrincipal - mine);
  if (count > mineRoom) {
    throw new ApiError(
      429,
      "too_many_queued_tasks",
      `${principal.name} has ${mine} tasks waiting or training and may have ${bounds.perPrincipal} (MAX_QUEUED_TASKS_PER_PRINCIPAL): room for ${mineRoom} more, not the ${count} of this batch; nothing was queued. Send at most ${mineRoom} meters, or wait for some to finish.`,
      { active_tasks: mine, limit: bounds.perPrincipal, requested: count, room: mineRoom },
      headers,
    );
  }
}
