/**
 * What webhook requests may say: the body of `POST /webhooks`, the
 * `notify` of `POST /trainmodel/`, and the webhook paths, as zod schemas
 * (they validate, and make the OpenAPI document).
 *
 * @module
 */
import { z } from "zod";
import { WEBHOOK_EVENT_FILTERS, WEBHOOK_FORMATS } from "../domain/webhook.ts";
import { problemCheck } from "./request_schemas.ts";

/** Longest webhook URL accepted. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** What is wrong with a webhook URL, in words; null when it is one. */
export function webhookUrlProblem(value: string): string | null {
  if (value.length > MAX_WEBHOOK_URL_LENGTH) {
    return `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be an absolute http(s) URL, such as https://hooks.example.com/wattcast";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return `must be an http(s) URL, not ${url.protocol.slice(0, 20)}`;
  }
  if (url.username || url.password) {
    return "must not carry a user name or password; put a secret in the path or query instead";
  }
  return null;
}

/** A webhook URL. */
export const webhookUrlSchema = z.string({ error: "is required and must be a string" })
  .check(problemCheck(webhookUrlProblem)).meta({
    description:
      "Where notifications are POSTed: an http(s) URL on a public address (loopback and private addresses are refused unless WEBHOOK_ALLOW_PRIVATE=true)",
    example: "https://hooks.example.com/wattcast",
  });

/** `standard` (Standard Webhooks JSON) or `slack` (`{"text": …}`). */
export const webhookFormatSchema = z.enum(WEBHOOK_FORMATS, {
  error: `must be one of: ${WEBHOOK_FORMATS.join(", ")}`,
}).default("standard").meta({
  description:
    '`standard`: the task status object, signed with Standard Webhooks headers; `slack`: a readable `{"text": …}` message for a Slack or Teams incoming webhook',
});

/** The `notify` of a training request. */
export const notifySchema = z.strictObject({
  url: webhookUrlSchema,
  format: webhookFormatSchema,
}, { error: 'must be an object such as {"url": "https://hooks.example.com/wattcast"}' }).meta({
  description:
    "Where the task's final event (SUCCESS, FAILURE or CANCELLED) is POSTed, signed with WEBHOOK_SECRET. Its deliveries: GET /webhooks/tasks/{task_id}/deliveries",
});

/** The body of `POST /webhooks`. */
export const subscriptionRequestSchema = z.strictObject({
  url: webhookUrlSchema,
  events: z.enum(WEBHOOK_EVENT_FILTERS, {
    error: `must be one of: ${WEBHOOK_EVENT_FILTERS.join(", ")}`,
  }).default("final").meta({
    description: "`final`: each task's final event only; `all`: every status change",
  }),
  format: webhookFormatSchema,
}, { error: "must be a JSON object" });

/** `/{webhook_id}`. */
export const webhookIdParamsSchema = z.object({
  webhook_id: z.string().meta({ description: "The subscription's id (`wh_…`)" }),
});

/** `/{webhook_id}/deliveries/{delivery_id}`. */
export const deliveryParamsSchema = z.object({
  webhook_id: z.string().meta({ description: "The subscription's id (`wh_…`)" }),
  delivery_id: z.string().meta({ description: "The delivery's id (`msg_…`, its webhook-id)" }),
});

/** `/tasks/{task_id}/deliveries/{delivery_id}`. */
export const taskDeliveryParamsSchema = z.object({
  task_id: z.string().meta({ description: "The task's id (a UUID)", format: "uuid" }),
  delivery_id: z.string().meta({ description: "The delivery's id (`msg_…`, its webhook-id)" }),
});

/** `?limit=` of a delivery listing. */
export const deliveriesQuerySchema = z.object({
  limit: z.string().check(
    problemCheck((v) =>
      /^\d{1,3}$/.test(v) && Number(v) >= 1 && Number(v) <= 100
        ? null
        : "must be a whole number from 1 to 100"
    ),
  ).optional().meta({ description: "Deliveries to list, newest first (1 to 100, default 20)" }),
});
