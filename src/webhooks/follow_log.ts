/**
 * Turns the log of every task's events (the one the all-task streams read)
 * into pending deliveries: each event after the store's cursor, for each
 * matching target (standing subscriptions by their filter; a task's own
 * `notify` for its final event), then the cursor moves on.
 *
 * A delivery's id is derived from its target and event, so two processes
 * reading the same events enqueue it once, and a process killed before
 * moving the cursor loses nothing: the next reader reads them again.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Broker } from "../broker/broker.ts";
import { isFinal, type TaskEvent } from "../domain/task.ts";
import {
  type DeliveryTarget,
  subscriptionTarget,
  taskTarget,
  type WebhookDelivery,
  type WebhookFormat,
} from "../domain/webhook.ts";

/** Events read from the log per read. */
const LOG_PAGE = 200;

/** The `webhook-id` of an event's delivery to a target: the same wherever it is computed. */
export function deliveryId(target: DeliveryTarget, event: TaskEvent): string {
  const digest = createHash("sha256").update(`${target}|${event.task.task_id}|${event.id}`)
    .digest("hex");
  return `msg_${digest.slice(0, 32)}`;
}

/** A new delivery of `event` to a target, due now. */
export function pendingDelivery(
  target: DeliveryTarget,
  url: string,
  format: WebhookFormat,
  event: TaskEvent,
): WebhookDelivery {
  return {
    id: deliveryId(target, event),
    target,
    url,
    format,
    task_id: event.task.task_id,
    event_id: event.id,
    task_status: event.task.status,
    payload: JSON.stringify(event.task),
    created_at: new Date().toISOString(),
    state: "pending",
    attempts: 0,
    retries: 0,
    manual: false,
    next_attempt_at: Date.now(),
    claimed_by: null,
    history: [],
  };
}

/** What a read of the log learned of the subscriptions. */
export interface FollowResult {
  /** Some active subscription wants every status change. */
  anyAll: boolean;
  /**
   * Events after the cursor were gone from the log (trimmed, or expired
   * with their tasks) before they were read: their deliveries were never made.
   */
  gap: boolean;
}

/**
 * Enqueues the deliveries of the events after the cursor and moves it on.
 * The first time ever (no cursor) it only marks the log's head: from then
 * on, not the whole history.
 */
export async function followLog(broker: Broker): Promise<FollowResult> {
  const store = broker.webhooks;
  let cursor = await store.getCursor();
  const subscriptions = (await store.listSubscriptions()).filter((s) => !s.disabled_at);
  const anyAll = subscriptions.some((s) => s.events === "all");
  if (cursor === null) {
    await store.advanceCursor((await broker.readAllEvents(null, 1)).head);
    return { anyAll, gap: false };
  }
  let gap = false;
  for (;;) {
    const page = await broker.readAllEvents(cursor, LOG_PAGE);
    gap ||= page.gap;
    for (const event of page.events) {
      const final = isFinal(event.task.status);
      for (const s of subscriptions) {
        if (s.events === "all" || final) {
          await store.enqueue(pendingDelivery(subscriptionTarget(s.id), s.url, s.format, event));
        }
      }
      if (!final) continue;
      const notify = await store.getTaskNotify(event.task.task_id);
      if (notify) {
        await store.enqueue(
          pendingDelivery(taskTarget(notify.task_id), notify.url, notify.format, event),
        );
      }
    }
    const last = page.events.at(-1)?.seq;
    if (last) {
      await store.advanceCursor(last);
      cursor = last;
    }
    if (page.events.length < LOG_PAGE) return { anyAll, gap };
  }
}
