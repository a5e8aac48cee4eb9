/**
 * Completion notifications: standing webhook subscriptions, the per-task
 * `notify` target, and deliveries (one message to one URL, with every
 * attempt made to send it). Delivery ids are the `webhook-id` the receiver
 * sees, the same on every attempt.
 *
 * @module
 */

/** How a notification is written: Standard Webhooks JSON, or a Slack/Teams text message. */
export const WEBHOOK_FORMATS = ["standard", "slack"] as const;

/** A notification's format. */
export type WebhookFormat = typeof WEBHOOK_FORMATS[number];

/** Which task events a subscription hears: final ones only, or every status change. */
export const WEBHOOK_EVENT_FILTERS = ["final", "all"] as const;

/** A subscription's event filter. */
export type WebhookEventFilter = typeof WEBHOOK_EVENT_FILTERS[number];

/** A standing subscription (`POST /webhooks`). */
export interface WebhookSubscription {
  /** `wh_…`. */
  id: string;
  url: string;
  events: WebhookEventFilter;
  format: WebhookFormat;
  /** Its signing key (`whsec_…`), shown once when created. */
  secret: string;
  created_at: string;
  /** Who created it (the principal's name), when authentication is on. */
  created_by?: string;
  /** Set when the receiver answered `410 Gone`: no delivery is made to it any more. */
  disabled_at: string | null;
  disabled_reason: string | null;
}

/** A subscription as the API shows it after creation: without its key. */
export type PublicSubscription = Omit<WebhookSubscription, "secret">;

/** The `notify` of one task: where its final event goes. */
export interface TaskNotify {
  task_id: string;
  url: string;
  format: WebhookFormat;
}

/** Where a delivery goes, as stored: `subscription:{id}` or `task:{task_id}`. */
export type DeliveryTarget = `subscription:${string}` | `task:${string}`;

/** The target of a subscription's deliveries. */
export function subscriptionTarget(id: string): DeliveryTarget {
  return `subscription:${id}`;
}

/** The target of a task's own (`notify`) deliveries. */
export function taskTarget(taskId: string): DeliveryTarget {
  return `task:${taskId}`;
}

/**
 * Where a delivery stands: `pending` (an attempt is due, now or later),
 * `delivered` (a 2xx), `failed` (every attempt failed), `gone` (the
 * receiver answered 410; its subscription is disabled).
 */
export type DeliveryState = "pending" | "delivered" | "failed" | "gone";

/** One attempt to send a delivery. */
export interface DeliveryAttempt {
  /** From 1. */
  attempt: number;
  /** When it was made (ISO). */
  at: string;
  /** The receiver's HTTP status; null when no answer came. */
  status_code: number | null;
  /** What went wrong, in words; null on success. */
  error: string | null;
  duration_ms: number;
}

/** One notification to one URL, and its attempts. */
export interface WebhookDelivery {
  /** `msg_…`: the `webhook-id` header, the same on every attempt. */
  id: string;
  target: DeliveryTarget;
  url: string;
  format: WebhookFormat;
  task_id: string;
  /** The task event's id (its SSE id). */
  event_id: string;
  /** The task's status in the event. */
  task_status: string;
  /** The body: the task status object, as the stream sends it. */
  payload: string;
  created_at: string;
  state: DeliveryState;
  /** Attempts made so far. */
  attempts: number;
  /** Failed attempts in the current round of retries: picks the next delay. */
  retries: number;
  /** A replay: one attempt, no retries after it. */
  manual: boolean;
  /** Epoch ms when the next attempt is due (or the claim on it runs out); null once settled. */
  next_attempt_at: number | null;
  /** Who holds the current attempt; null when nobody does. */
  claimed_by: string | null;
  /** The latest attempts, oldest first (at most {@link MAX_ATTEMPTS_KEPT}). */
  history: DeliveryAttempt[];
}

/** Attempts kept in a delivery's history. */
export const MAX_ATTEMPTS_KEPT = 20;

/** Deliveries kept per target for `GET …/deliveries`; older settled ones are dropped. */
export const MAX_DELIVERIES_PER_TARGET = 100;
