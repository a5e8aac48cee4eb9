/**
 * What a delivery sends: the body (the task status object as the stream
 * sends it, or for `slack` a `{"text": …}` message that Slack and Teams
 * incoming webhooks show as it is) and the Standard Webhooks headers
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature`), signed with
 * the `standardwebhooks` package when there is a key.
 *
 * @module
 */
import { Webhook } from "standardwebhooks";
import { encodeBase64 } from "../util/base64.ts";
import type { Task } from "../domain/task.ts";
import type { WebhookDelivery } from "../domain/webhook.ts";

/** A new signing key in the Standard Webhooks form: `whsec_` and 24 random bytes in base64. */
export function newSecret(): string {
  return `whsec_${encodeBase64(crypto.getRandomValues(new Uint8Array(24)))}`;
}

/** True when `secret` is a key `standardwebhooks` can sign with (`whsec_` and base64). */
export function isSecret(secret: string): boolean {
  if (!/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/.test(secret)) return false;
  try {
    new Webhook(secret);
    return true;
  } catch {
    return false;
  }
}

/** The HTTP request of one attempt. */
export interface WebhookRequest {
  headers: Record<string, string>;
  body: string;
}

/**
 * The request of an attempt at `at`: signed when `secret` is given (every
 * standard delivery has one; a `slack` one may go unsigned).
 */
export function webhookRequest(
  delivery: WebhookDelivery,
  secret: string | null,
  at: Date = new Date(),
): WebhookRequest {
  const body = delivery.format === "slack"
    ? JSON.stringify({ text: slackText(JSON.parse(delivery.payload) as Task) })
    : delivery.payload;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "Wattcast-Webhooks/1",
    "webhook-id": delivery.id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
  };
  if (secret) headers["webhook-signature"] = new Webhook(secret).sign(delivery.id, at, body);
  return { headers, body };
}

/** A task's status change in one readable line, for Slack and Teams. */
export function slackText(task: Task): string {
  const meter = `${task.meter_type} meter ${task.meter_id}`;
  const ref = `(task ${task.task_id})`;
  switch (task.status) {
    case "SUCCESS":
      return `:white_check_mark: Training of ${meter} succeeded: ${task.message} ${ref}`;
    case "FAILURE":
      return `:x: Training of ${meter} failed${
        task.error_details ? ` while ${task.error_details.stage}` : ""
      }: ${task.error ?? task.message}${
        task.error_details?.hint ? ` ${task.error_details.hint}` : ""
      } ${ref}`;
    case "CANCELLED":
      return `:no_entry_sign: Training of ${meter} was cancelled: ${task.message} ${ref}`;
    default:
      return `Training of ${meter}: ${task.status} (${task.progress}%): ${task.message} ${ref}`;
  }
}
