/**
 * The webhook store: the part of the broker that holds notification
 * subscriptions, per-task `notify` targets and pending deliveries, so that
 * they survive restarts and any API or worker process can send them. Each
 * broker (memory, SQLite, Redis) has one (`Broker.webhooks`); every one
 * passes `webhook_store_conformance.ts`.
 *
 * Deliveries are sent at least once: a sender claims due ones with a lease
 * (`claimDue` moves their due time to the lease's end), and settles its
 * attempt only while it still holds the claim (`finishAttempt`). A sender
 * that dies leaves the delivery due again when the lease runs out.
 *
 * @module
 */
import type {
  DeliveryTarget,
  TaskNotify,
  WebhookDelivery,
  WebhookSubscription,
} from "../domain/webhook.ts";

/** What a replay did: the delivery made due again, or why not. */
export type ReplayResult =
  | { replayed: true; delivery: WebhookDelivery }
  | { replayed: false; delivery: WebhookDelivery | null };

/** What a claim took, and when the next pending delivery is due (null: none is pending). */
export interface Claim {
  claimed: WebhookDelivery[];
  /** Epoch ms of the earliest due time left after the claim (a claimed one's: its lease's end). */
  nextDueAt: number | null;
}

/** Subscriptions, task targets and deliveries, kept by a broker. */
export interface WebhookStore {
  /** Stores a new subscription. */
  putSubscription(subscription: WebhookSubscription): Promise<void>;
  /** The subscription, or null. */
  getSubscription(id: string): Promise<WebhookSubscription | null>;
  /** Every subscription, oldest first. */
  listSubscriptions(): Promise<WebhookSubscription[]>;
  /** Removes a subscription (its deliveries stay until trimmed); false if unknown. */
  deleteSubscription(id: string): Promise<boolean>;
  /** Marks a subscription disabled (its receiver is gone); false if unknown. */
  disableSubscription(id: string, at: string, reason: string): Promise<boolean>;

  /** Keeps a task's `notify` target for `ttlSeconds`. */
  putTaskNotify(notify: TaskNotify, ttlSeconds: number): Promise<void>;
  /** The task's `notify` target, or null. */
  getTaskNotify(taskId: string): Promise<TaskNotify | null>;
  /** Forgets a task's `notify` target. */
  deleteTaskNotify(taskId: string): Promise<void>;

  /** Adds a pending delivery unless one with its id exists; true if added. */
  enqueue(delivery: WebhookDelivery): Promise<boolean>;
  /**
   * Claims for `consumer` up to `limit` pending deliveries due at `now`
   * (oldest due first): each is due again at `now + leaseMs` unless settled.
   * Also says when the next pending delivery is due, so that a sender can
   * sleep until then instead of asking again and again.
   */
  claimDue(consumer: string, now: number, leaseMs: number, limit: number): Promise<Claim>;
  /**
   * Stores the outcome of an attempt (`delivery` as it is after it, its
   * `claimed_by` cleared) if `consumer` still holds the claim; false if not.
   */
  finishAttempt(delivery: WebhookDelivery, consumer: string): Promise<boolean>;
  /** The delivery, or null. */
  getDelivery(id: string): Promise<WebhookDelivery | null>;
  /** A target's deliveries, newest first, at most `limit`. */
  listDeliveries(target: DeliveryTarget, limit: number): Promise<WebhookDelivery[]>;
  /**
   * Makes a settled delivery due at `now` for one more attempt (`manual`, no
   * retries after it), with the same id. A pending one is left as it is.
   */
  replay(id: string, now: number): Promise<ReplayResult>;

  /** How far the log of every task's events has been turned into deliveries; null before the first time. */
  getCursor(): Promise<string | null>;
  /** Moves the cursor forward to `seq` (never back). */
  advanceCursor(seq: string): Promise<void>;
}

/**
 * Seconds a settled delivery is kept after its last attempt (besides the
 * newest {@link MAX_DELIVERIES_PER_TARGET} of a target that are listed):
 * then it is forgotten, so that per-task targets do not pile up.
 */
export const SETTLED_DELIVERY_TTL_SECONDS = 7 * 86_400;

/** When a delivery settled (its last attempt's time, epoch ms), or null while pending. */
export function settledAt(delivery: WebhookDelivery): number | null {
  if (delivery.state === "pending") return null;
  const last = delivery.history.at(-1);
  return last ? Date.parse(last.at) : Date.parse(delivery.created_at);
}

/** A delivery made due again by a replay. */
export function replayed(delivery: WebhookDelivery, now: number): WebhookDelivery {
  return {
    ...delivery,
    state: "pending",
    manual: true,
    retries: 0,
    next_attempt_at: now,
    claimed_by: null,
  };
}
