/**
 * The webhook store in memory (the memory broker's): lost with the process,
 * like everything else it keeps.
 *
 * @module
 */
import { compareEventIds } from "./event_id.ts";
import {
  replayed,
  SETTLED_DELIVERY_TTL_SECONDS,
  settledAt,
  type WebhookStore,
} from "./webhook_store.ts";
import {
  MAX_DELIVERIES_PER_TARGET,
  type TaskNotify,
  type WebhookDelivery,
  type WebhookSubscription,
} from "../domain/webhook.ts";

/** Creates an empty in-memory webhook store. */
export function createMemoryWebhookStore(now: () => number = Date.now): WebhookStore {
  const subscriptions = new Map<string, WebhookSubscription>();
  const notify = new Map<string, { notify: TaskNotify; expiresAt: number }>();
  // In insertion order: a target's listing is its entries, newest last.
  const deliveries = new Map<string, WebhookDelivery>();
  let cursor: string | null = null;
  let purgedAt = 0;

  /** Forgets deliveries settled longer ago than the retention, at most once a minute. */
  function purge(): void {
    const at = now();
    if (at - purgedAt < 60_000) return;
    purgedAt = at;
    for (const d of deliveries.values()) {
      const settled = settledAt(d);
      if (settled !== null && settled < at - SETTLED_DELIVERY_TTL_SECONDS * 1000) {
        deliveries.delete(d.id);
      }
    }
  }
  const copy = <T>(value: T): T => structuredClone(value);

  function trim(target: string): void {
    const ids = [...deliveries.values()].filter((d) => d.target === target);
    for (const old of ids.slice(0, Math.max(0, ids.length - MAX_DELIVERIES_PER_TARGET))) {
      if (old.state !== "pending") deliveries.delete(old.id);
    }
  }

  return {
    putSubscription(subscription) {
      subscriptions.set(subscription.id, copy(subscription));
      return Promise.resolve();
    },
    getSubscription(id) {
      const found = subscriptions.get(id);
      return Promise.resolve(found ? copy(found) : null);
    },
    listSubscriptions() {
      return Promise.resolve([...subscriptions.values()].map(copy));
    },
    deleteSubscription(id) {
      return Promise.resolve(subscriptions.delete(id));
    },
    disableSubscription(id, at, reason) {
      const found = subscriptions.get(id);
      if (!found) return Promise.resolve(false);
      subscriptions.set(id, { ...found, disabled_at: at, disabled_reason: reason });
      return Promise.resolve(true);
    },
    putTaskNotify(value, ttlSeconds) {
      // Expired targets go as new ones come (as the SQLite store purges them): none is kept forever.
      const at = now();
      for (const [taskId, kept] of notify) if (kept.expiresAt <= at) notify.delete(taskId);
      notify.set(value.task_id, { notify: copy(value), expiresAt: at + ttlSeconds * 1000 });
      return Promise.resolve();
    },
    getTaskNotify(taskId) {
      const found = notify.get(taskId);
      if (found && found.expiresAt <= now()) notify.delete(taskId);
      return Promise.resolve(found && found.expiresAt > now() ? copy(found.notify) : null);
    },
    deleteTaskNotify(taskId) {
      notify.delete(taskId);
      return Promise.resolve();
    },
    enqueue(delivery) {
      purge();
      if (deliveries.has(delivery.id)) return Promise.resolve(false);
      deliveries.set(delivery.id, copy(delivery));
      trim(delivery.target);
      return Promise.resolve(true);
    },
    claimDue(consumer, at, leaseMs, limit) {
      const due = [...deliveries.values()]
        .filter((d) =>
          d.state === "pending" && d.next_attempt_at !== null && d.next_attempt_at <= at
        )
        .sort((a, b) => a.next_attempt_at! - b.next_attempt_at!)
        .slice(0, limit);
      for (const d of due) {
        d.claimed_by = consumer;
        d.next_attempt_at = at + leaseMs;
      }
      const times = [...deliveries.values()]
        .filter((d) => d.state === "pending" && d.next_attempt_at !== null)
        .map((d) => d.next_attempt_at!);
      return Promise.resolve({
        claimed: due.map(copy),
        nextDueAt: times.length ? Math.min(...times) : null,
      });
    },
    finishAttempt(delivery, consumer) {
      const current = deliveries.get(delivery.id);
      if (!current || current.state !== "pending" || current.claimed_by !== consumer) {
        return Promise.resolve(false);
      }
      deliveries.set(delivery.id, { ...copy(delivery), claimed_by: null });
      return Promise.resolve(true);
    },
    getDelivery(id) {
      const found = deliveries.get(id);
      return Promise.resolve(found ? copy(found) : null);
    },
    listDeliveries(target, limit) {
      const found = [...deliveries.values()].filter((d) => d.target === target);
      return Promise.resolve(found.reverse().slice(0, limit).map(copy));
    },
    replay(id, at) {
      const found = deliveries.get(id);
      if (!found || found.state === "pending") {
        return Promise.resolve({ replayed: false, delivery: found ? copy(found) : null });
      }
      const again = replayed(found, at);
      deliveries.set(id, again);
      return Promise.resolve({ replayed: true, delivery: copy(again) });
    },
    getCursor() {
      return Promise.resolve(cursor);
    },
    advanceCursor(seq) {
      if (cursor === null || compareEventIds(seq, cursor) > 0) cursor = seq;
      return Promise.resolve();
    },
  };
}
