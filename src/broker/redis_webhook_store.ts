/**
 * The webhook store on Redis (the Redis broker's), so that every API and
 * worker process sees the same subscriptions and pending deliveries.
 *
 * Layout (keys under the broker's prefix, `wattcast:` by default):
 * - `webhook:subscriptions`: hash, subscription id → JSON;
 * - `webhook:notify:{task_id}`: a task's `notify` target (JSON), expiring with the task;
 * - `webhook:delivery:{id}`: a delivery (JSON); expires
 *   {@link SETTLED_DELIVERY_TTL_SECONDS} after it settles (a target's list
 *   too, unless a delivery is added to it meanwhile);
 * - `webhook:due`: sorted set of pending deliveries by due time (ms), a
 *   claimed one by its lease's end;
 * - `webhook:target:{target}`: sorted set of a target's deliveries by
 *   creation, the newest {@link MAX_DELIVERIES_PER_TARGET} kept;
 * - `webhook:cursor`: how far the log of every task's events was read.
 *
 * Claims and attempts' outcomes are Lua scripts (`redis_webhook_scripts.ts`).
 *
 * @module
 */
import type { Redis } from "@upstash/redis";
import { SETTLED_DELIVERY_TTL_SECONDS, type WebhookStore } from "./webhook_store.ts";
import {
  WEBHOOK_ADVANCE,
  WEBHOOK_CLAIM,
  WEBHOOK_DISABLE,
  WEBHOOK_ENQUEUE,
  WEBHOOK_FINISH,
  WEBHOOK_REPLAY,
} from "./redis_webhook_scripts.ts";
import {
  MAX_DELIVERIES_PER_TARGET,
  type TaskNotify,
  type WebhookDelivery,
  type WebhookSubscription,
} from "../domain/webhook.ts";

/** Creates the webhook store on a Redis client (made with `automaticDeserialization: false`). */
export function createRedisWebhookStore(redis: Redis, prefix: string): WebhookStore {
  const key = {
    subscriptions: `${prefix}webhook:subscriptions`,
    notify: (taskId: string) => `${prefix}webhook:notify:${taskId}`,
    deliveryPrefix: `${prefix}webhook:delivery:`,
    delivery: (id: string) => `${prefix}webhook:delivery:${id}`,
    due: `${prefix}webhook:due`,
    target: (target: string) => `${prefix}webhook:target:${target}`,
    cursor: `${prefix}webhook:cursor`,
  };
  const scripts = {
    enqueue: redis.createScript<number>(WEBHOOK_ENQUEUE),
    claim: redis.createScript<string[]>(WEBHOOK_CLAIM),
    finish: redis.createScript<number>(WEBHOOK_FINISH),
    replay: redis.createScript<[number, string?]>(WEBHOOK_REPLAY),
    advance: redis.createScript<number>(WEBHOOK_ADVANCE),
    disable: redis.createScript<number>(WEBHOOK_DISABLE),
  };
  const run = <T>(command: string[]) => redis.exec(command as [string, ...string[]]) as Promise<T>;
  /** cjson writes an empty history as `{}`: read it back as a list. */
  const readDelivery = (json: string): WebhookDelivery => {
    const d = JSON.parse(json);
    if (!Array.isArray(d.history)) d.history = [];
    return d;
  };

  return {
    async putSubscription(subscription) {
      await run(["HSET", key.subscriptions, subscription.id, JSON.stringify(subscription)]);
    },
    async getSubscription(id) {
      const raw = await run<string | null>(["HGET", key.subscriptions, id]);
      return raw ? JSON.parse(raw) as WebhookSubscription : null;
    },
    async listSubscriptions() {
      const values = await run<string[]>(["HVALS", key.subscriptions]);
      return values.map((v) => JSON.parse(v) as WebhookSubscription)
        .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
    },
    async deleteSubscription(id) {
      return Number(await run<number>(["HDEL", key.subscriptions, id])) > 0;
    },
    async disableSubscription(id, at, reason) {
      // One script: a read then a write could put back one deleted in between.
      return Number(await scripts.disable.exec([key.subscriptions], [id, at, reason])) === 1;
    },
    async putTaskNotify(notify, ttlSeconds) {
      await run([
        "SET",
        key.notify(notify.task_id),
        JSON.stringify(notify),
        "EX",
        String(ttlSeconds),
      ]);
    },
    async getTaskNotify(taskId) {
      const raw = await run<string | null>(["GET", key.notify(taskId)]);
      return raw ? JSON.parse(raw) as TaskNotify : null;
    },
    async deleteTaskNotify(taskId) {
      await run(["DEL", key.notify(taskId)]);
    },
    async enqueue(d) {
      const added = await scripts.enqueue.exec(
        [key.delivery(d.id), key.due, key.target(d.target)],
        [
          JSON.stringify(d),
          String(d.next_attempt_at ?? 0),
          d.id,
          String(Date.parse(d.created_at)),
          String(MAX_DELIVERIES_PER_TARGET),
        ],
      );
      return Number(added) === 1;
    },
    async claimDue(consumer, now, leaseMs, limit) {
      const claimed = await scripts.claim.exec([key.due], [
        String(now),
        String(now + leaseMs),
        String(limit),
        consumer,
        key.deliveryPrefix,
      ]);
      const [next, ...jsons] = claimed;
      return { claimed: jsons.map(readDelivery), nextDueAt: next ? Number(next) : null };
    },
    async finishAttempt(delivery, consumer) {
      const after = { ...delivery, claimed_by: null };
      const pending = after.state === "pending";
      const done = await scripts.finish.exec([
        key.delivery(delivery.id),
        key.due,
        key.target(delivery.target),
      ], [
        JSON.stringify(after),
        consumer,
        delivery.id,
        pending ? "1" : "0",
        String(after.next_attempt_at ?? 0),
        String(SETTLED_DELIVERY_TTL_SECONDS),
      ]);
      return Number(done) === 1;
    },
    async getDelivery(id) {
      const raw = await run<string | null>(["GET", key.delivery(id)]);
      return raw ? readDelivery(raw) : null;
    },
    async listDeliveries(target, limit) {
      const ids = await run<string[]>(["ZREVRANGE", key.target(target), "0", String(limit - 1)]);
      if (ids.length === 0) return [];
      const raws = await run<(string | null)[]>(["MGET", ...ids.map(key.delivery)]);
      return raws.filter((r): r is string => r !== null).map(readDelivery);
    },
    async replay(id, now) {
      const [replayed, raw] = await scripts.replay.exec([key.delivery(id), key.due], [
        String(now),
        id,
      ]);
      const delivery = raw ? readDelivery(raw) : null;
      return Number(replayed) === 1 && delivery
        ? { replayed: true, delivery }
        : { replayed: false, delivery };
    },
    async getCursor() {
      return await run<string | null>(["GET", key.cursor]);
    },
    async advanceCursor(seq) {
      await scripts.advance.exec([key.cursor], [seq]);
    },
  };
}
