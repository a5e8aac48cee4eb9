/**
 * One attempt at a delivery, and what becomes of the delivery after it, in
 * one place:
 *
 * | what happened                                  | the delivery          |
 * | ---------------------------------------------- | --------------------- |
 * | a `2xx`                                        | `delivered`           |
 * | `410 Gone`                                     | `gone` (its subscription disabled) |
 * | anything else, retries left in the schedule    | `pending`, due after the next delay |
 * | anything else, none left (or it was a replay)  | `failed`              |
 * | its subscription deleted or disabled, no key   | `failed`, not sent    |
 *
 * An address that resolves to a private one now (DNS rebinding) is not sent
 * to: the attempt fails as `refused` and is retried like any failure.
 *
 * @module
 */
import type { WebhookStore } from "../broker/webhook_store.ts";
import { MAX_ATTEMPTS_KEPT, type WebhookDelivery } from "../domain/webhook.ts";
import { guardedLookup, type Resolve, systemResolve, targetProblem } from "./address_guard.ts";
import { webhookRequest } from "./message.ts";
import { retryDelayMs, type RetrySchedule } from "./schedule.ts";
import { sendWebhook } from "./send.ts";

/** How an attempt ended, as counted by the metrics. */
export type AttemptOutcome = "delivered" | "retry" | "failed" | "gone" | "refused";

/** What an attempt needs. */
export interface AttemptSettings {
  store: WebhookStore;
  /** The key of per-task notifications (`WEBHOOK_SECRET`); null: they go unsigned (slack only). */
  secret: string | null;
  schedule: RetrySchedule;
  /** Send to private addresses too (`WEBHOOK_ALLOW_PRIVATE`). */
  allowPrivate: boolean;
  /** Milliseconds an attempt waits for an answer. */
  timeoutMs: number;
  /** Aborts the request in flight (the process is stopping). */
  cancel?: AbortSignal;
  /** How host names are resolved (the system resolver unless a test says otherwise). */
  resolve?: Resolve;
}

const SUBSCRIPTION = "subscription:";

/** The key a delivery is signed with, or why it cannot be sent at all. */
async function keyFor(
  d: WebhookDelivery,
  settings: AttemptSettings,
): Promise<{ secret: string | null } | { stop: string }> {
  if (!d.target.startsWith(SUBSCRIPTION)) {
    return settings.secret || d.format === "slack"
      ? { secret: settings.secret }
      : { stop: "WEBHOOK_SECRET is not set: per-task notifications cannot be signed" };
  }
  const subscription = await settings.store.getSubscription(d.target.slice(SUBSCRIPTION.length));
  if (!subscription) return { stop: "the subscription was deleted" };
  if (subscription.disabled_at) {
    return { stop: `the subscription is disabled (${subscription.disabled_reason})` };
  }
  return { secret: subscription.secret };
}

/** Makes one attempt; returns the delivery as it is after it (not stored yet) and the outcome. */
export async function attemptDelivery(
  d: WebhookDelivery,
  settings: AttemptSettings,
): Promise<{ after: WebhookDelivery; outcome: AttemptOutcome }> {
  const at = new Date();
  const key = await keyFor(d, settings);
  let status: number | null = null;
  let error: string | null;
  let durationMs = 0;
  let refused = false;
  if ("stop" in key) error = key.stop;
  else {
    const resolve = settings.resolve ?? systemResolve;
    const problem = settings.allowPrivate ? null : await targetProblem(d.url, resolve);
    if (problem) {
      refused = true;
      error = `Not sent: the URL ${problem}`;
    } else {
      const request = webhookRequest(d, key.secret, at);
      const sent = await sendWebhook(
        d.url,
        request,
        settings.timeoutMs,
        settings.cancel,
        settings.allowPrivate ? undefined : guardedLookup(resolve),
      );
      ({ status, error, durationMs } = sent);
      refused = sent.refused === true;
    }
  }
  const attempts = d.attempts + 1;
  const record = {
    attempt: attempts,
    at: at.toISOString(),
    status_code: status,
    error,
    duration_ms: durationMs,
  };
  const history = [...d.history, record].slice(-MAX_ATTEMPTS_KEPT);
  const base: WebhookDelivery = { ...d, attempts, history, claimed_by: null };
  const settled = (state: WebhookDelivery["state"]) => ({
    ...base,
    state,
    next_attempt_at: null,
  });
  if (error === null) return { after: settled("delivered"), outcome: "delivered" };
  if (status === 410) {
    if (d.target.startsWith(SUBSCRIPTION)) {
      await settings.store.disableSubscription(
        d.target.slice(SUBSCRIPTION.length),
        at.toISOString(),
        `the receiver answered 410 Gone to delivery ${d.id}`,
      );
    }
    return { after: settled("gone"), outcome: "gone" };
  }
  const delay = "stop" in key || d.manual ? null : retryDelayMs(settings.schedule, d.retries + 1);
  if (delay === null) return { after: settled("failed"), outcome: refused ? "refused" : "failed" };
  return {
    after: { ...base, retries: d.retries + 1, next_attempt_at: Date.now() + delay },
    outcome: refused ? "refused" : "retry",
  };
}
