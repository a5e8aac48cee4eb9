/**
 * The webhook store in the SQLite broker's file: tables `webhook_*`, made
 * when missing (an older file gains them at open).
 *
 * - `webhook_subscriptions`: one row per subscription (JSON);
 * - `webhook_task_notify`: a task's `notify` target until `expires_at`;
 * - `webhook_deliveries`: one row per delivery (JSON), with its `state`,
 *   `next_at` (indexed for pending ones), `claimed_by` and `settled_at` (for
 *   the retention) as columns; the rowid orders a target's listing;
 * - `webhook_cursor`: how far the log of every task's events was read.
 *
 * One process holds the file, so a claim found at open belongs to a
 * process that is gone: it is made due at once, like the job leases.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { compareEventIds } from "./event_id.ts";
import { transaction } from "./sqlite_file.ts";
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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
  id TEXT PRIMARY KEY,
  subscription TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_task_notify (
  task_id TEXT PRIMARY KEY,
  notify TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id TEXT NOT NULL UNIQUE,
  target TEXT NOT NULL,
  state TEXT NOT NULL,
  next_at INTEGER,
  claimed_by TEXT,
  settled_at INTEGER,
  delivery TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_settled ON webhook_deliveries (settled_at)
  WHERE settled_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_at)
  WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS webhook_deliveries_target ON webhook_deliveries (target);
CREATE TABLE IF NOT EXISTS webhook_cursor (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  seq TEXT NOT NULL
);`;

/** Creates the webhook store in an open SQLite broker file. */
export function createSqliteWebhookStore(db: DatabaseSync, now: () => number): WebhookStore {
  db.exec(SCHEMA);
  transaction(db, () => {
    db.prepare(
      "UPDATE webhook_deliveries SET next_at = ? WHERE claimed_by IS NOT NULL AND state = 'pending'",
    )
      .run(now());
  });
  const sql = {
    putSub: db.prepare(
      "INSERT OR REPLACE INTO webhook_subscriptions (id, subscription) VALUES (?, ?)",
    ),
    getSub: db.prepare("SELECT subscription FROM webhook_subscriptions WHERE id = ?"),
    listSubs: db.prepare("SELECT subscription FROM webhook_subscriptions ORDER BY rowid"),
    deleteSub: db.prepare("DELETE FROM webhook_subscriptions WHERE id = ?"),
    putNotify: db.prepare(
      "INSERT OR REPLACE INTO webhook_task_notify (task_id, notify, expires_at) VALUES (?, ?, ?)",
    ),
    getNotify: db.prepare(
      "SELECT notify FROM webhook_task_notify WHERE task_id = ? AND expires_at > ?",
    ),
    deleteNotify: db.prepare("DELETE FROM webhook_task_notify WHERE task_id = ?"),
    purgeNotify: db.prepare("DELETE FROM webhook_task_notify WHERE expires_at <= ?"),
    insert: db.prepare(
      `INSERT OR IGNORE INTO webhook_deliveries (id, target, state, next_at, claimed_by, delivery)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    trim: db.prepare(
      `DELETE FROM webhook_deliveries WHERE state != 'pending' AND rowid IN
       (SELECT rowid FROM webhook_deliveries WHERE target = ?1 ORDER BY rowid DESC LIMIT -1 OFFSET ?2)`,
    ),
    due: db.prepare(
      `SELECT delivery FROM webhook_deliveries WHERE state = 'pending' AND next_at <= ?
       ORDER BY next_at LIMIT ?`,
    ),
    update: db.prepare(
      `UPDATE webhook_deliveries SET state = ?, next_at = ?, claimed_by = ?, settled_at = ?,
       delivery = ? WHERE id = ?`,
    ),
    purgeSettled: db.prepare(
      "DELETE FROM webhook_deliveries WHERE settled_at IS NOT NULL AND settled_at < ?",
    ),
    get: db.prepare("SELECT delivery FROM webhook_deliveries WHERE id = ?"),
    nextDue: db.prepare(
      "SELECT MIN(next_at) AS next FROM webhook_deliveries WHERE state = 'pending'",
    ),
    list: db.prepare(
      "SELECT delivery FROM webhook_deliveries WHERE target = ? ORDER BY rowid DESC LIMIT ?",
    ),
    cursor: db.prepare("SELECT seq FROM webhook_cursor"),
    setCursor: db.prepare("INSERT OR REPLACE INTO webhook_cursor (one, seq) VALUES (1, ?)"),
  };
  const parse = <T>(row: Record<string, unknown> | undefined, column: string): T | null =>
    row ? JSON.parse(String(row[column])) as T : null;
  const getDelivery = (id: string) => parse<WebhookDelivery>(sql.get.get(id), "delivery");
  const write = (d: WebhookDelivery) =>
    sql.update.run(
      d.state,
      d.next_attempt_at,
      d.claimed_by,
      settledAt(d),
      JSON.stringify(d),
      d.id,
    );
  let purgedAt = 0;
  /** Forgets deliveries settled longer ago than the retention, at most once a minute. */
  const purge = () => {
    const at = now();
    if (at - purgedAt < 60_000) return;
    purgedAt = at;
    sql.purgeSettled.run(at - SETTLED_DELIVERY_TTL_SECONDS * 1000);
  };

  return {
    putSubscription(subscription) {
      sql.putSub.run(subscription.id, JSON.stringify(subscription));
      return Promise.resolve();
    },
    getSubscription(id) {
      return Promise.resolve(parse<WebhookSubscription>(sql.getSub.get(id), "subscription"));
    },
    listSubscriptions() {
      return Promise.resolve(
        sql.listSubs.all().map((row) =>
          JSON.parse(String(row.subscription)) as WebhookSubscription
        ),
      );
    },
    deleteSubscription(id) {
      return Promise.resolve(Number(sql.deleteSub.run(id).changes) > 0);
    },
    disableSubscription(id, at, reason) {
      return Promise.resolve(transaction(db, () => {
        const found = parse<WebhookSubscription>(sql.getSub.get(id), "subscription");
        if (!found) return false;
        sql.putSub.run(id, JSON.stringify({ ...found, disabled_at: at, disabled_reason: reason }));
        return true;
      }));
    },
    putTaskNotify(notify, ttlSeconds) {
      const at = now();
      sql.purgeNotify.run(at);
      sql.putNotify.run(notify.task_id, JSON.stringify(notify), at + ttlSeconds * 1000);
      return Promise.resolve();
    },
    getTaskNotify(taskId) {
      return Promise.resolve(parse<TaskNotify>(sql.getNotify.get(taskId, now()), "notify"));
    },
    deleteTaskNotify(taskId) {
      sql.deleteNotify.run(taskId);
      return Promise.resolve();
    },
    enqueue(d) {
      purge();
      return Promise.resolve(transaction(db, () => {
        const added = Number(
          sql.insert.run(
            d.id,
            d.target,
            d.state,
            d.next_attempt_at,
            d.claimed_by,
            JSON.stringify(d),
          )
            .changes,
        ) > 0;
        if (added) sql.trim.run(d.target, MAX_DELIVERIES_PER_TARGET);
        return added;
      }));
    },
    claimDue(consumer, at, leaseMs, limit) {
      return Promise.resolve(transaction(db, () => {
        const claimed = sql.due.all(at, limit).map((row) => {
          const d = JSON.parse(String(row.delivery)) as WebhookDelivery;
          const mine = { ...d, claimed_by: consumer, next_attempt_at: at + leaseMs };
          write(mine);
          return mine;
        });
        const next = sql.nextDue.get()?.next;
        return { claimed, nextDueAt: next === null || next === undefined ? null : Number(next) };
      }));
    },
    finishAttempt(delivery, consumer) {
      return Promise.resolve(transaction(db, () => {
        const current = getDelivery(delivery.id);
        if (!current || current.state !== "pending" || current.claimed_by !== consumer) {
          return false;
        }
        write({ ...delivery, claimed_by: null });
        return true;
      }));
    },
    getDelivery(id) {
      return Promise.resolve(getDelivery(id));
    },
    listDeliveries(target, limit) {
      return Promise.resolve(
        sql.list.all(target, limit).map((row) =>
          JSON.parse(String(row.delivery)) as WebhookDelivery
        ),
      );
    },
    replay(id, at) {
      return Promise.resolve(transaction(db, () => {
        const found = getDelivery(id);
        if (!found || found.state === "pending") {
          return { replayed: false as const, delivery: found };
        }
        const again = replayed(found, at);
        write(again);
        return { replayed: true as const, delivery: again };
      }));
    },
    getCursor() {
      const row = sql.cursor.get();
      return Promise.resolve(row ? String(row.seq) : null);
    },
    advanceCursor(seq) {
      transaction(db, () => {
        const row = sql.cursor.get();
        if (!row || compareEventIds(seq, String(row.seq)) > 0) sql.setCursor.run(seq);
      });
      return Promise.resolve();
    },
  };
}
