/**
 * The `/webhooks` routes as OpenAPI route declarations (`webhook_routes.ts`
 * registers its handlers on them), and the shapes they answer.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses, jsonContent } from "./openapi.ts";
import {
  deliveriesQuerySchema,
  deliveryParamsSchema,
  subscriptionRequestSchema,
  taskDeliveryParamsSchema,
  webhookIdParamsSchema,
} from "./webhook_request.ts";

/** A subscription, as listed (without its key). */
export const subscriptionSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.enum(["final", "all"]),
  format: z.enum(["standard", "slack"]),
  created_at: z.string(),
  created_by: z.string().optional(),
  disabled_at: z.string().nullable().meta({
    description: "Set when the receiver answered 410 Gone: nothing is sent to it any more",
  }),
  disabled_reason: z.string().nullable(),
  deliveries_url: z.string(),
}).meta({ id: "WebhookSubscription", description: "A standing webhook subscription" });

/** `POST /webhooks`'s answer: the subscription and its key, shown this once. */
export const createdSubscriptionSchema = subscriptionSchema.extend({
  secret: z.string().meta({
    description:
      "The key its notifications are signed with (`whsec_…`), for the receiver's Standard Webhooks check. Shown only in this answer: keep it.",
  }),
}).meta({ id: "CreatedWebhookSubscription" });

/** One attempt of a delivery. */
const attemptSchema = z.object({
  attempt: z.int(),
  at: z.string(),
  status_code: z.int().nullable(),
  error: z.string().nullable(),
  duration_ms: z.number(),
});

/** A delivery, as listed. */
export const deliverySchema = z.object({
  id: z.string().meta({ description: "The webhook-id header, the same on every attempt" }),
  target: z.string(),
  url: z.string(),
  format: z.enum(["standard", "slack"]),
  task_id: z.string(),
  event_id: z.string(),
  task_status: z.string(),
  created_at: z.string(),
  state: z.enum(["pending", "delivered", "failed", "gone"]),
  attempts: z.int(),
  next_attempt_at: z.string().nullable(),
  history: z.array(attemptSchema),
}).meta({ id: "WebhookDelivery", description: "One notification to one URL, and its attempts" });

const deliveryListSchema = z.object({ deliveries: z.array(deliverySchema) });

const NOT_FOUND = "No subscription has that id (`webhook_not_found`)";

/** `POST /webhooks`. */
export const createWebhookRoute = createRoute({
  method: "post",
  path: "/",
  tags: ["webhooks"],
  summary: "Subscribe a URL to task events",
  request: {
    body: {
      required: true,
      content: jsonContent(subscriptionRequestSchema.meta({
        id: "WebhookSubscriptionRequest",
        example: { url: "https://hooks.example.com/wattcast", events: "final" },
      })),
    },
  },
  responses: {
    201: {
      description: "The subscription, with its signing key (shown once)",
      headers: { Location: { description: "`/webhooks/{id}`", schema: { type: "string" } } },
      content: jsonContent(createdSubscriptionSchema),
    },
    ...errorResponses({
      400:
        "The URL is on a loopback or private address, or does not resolve (`webhook_target_refused`)",
      422: "A field is missing or bad: each is named",
    }),
  },
});

/** `GET /webhooks`. */
export const listWebhooksRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["webhooks"],
  summary: "The standing subscriptions",
  responses: {
    200: {
      description: "Every subscription, oldest first",
      content: jsonContent(z.object({ webhooks: z.array(subscriptionSchema) })),
    },
    ...errorResponses({}),
  },
});

/** `GET /webhooks/{webhook_id}`. */
export const getWebhookRoute = createRoute({
  method: "get",
  path: "/{webhook_id}",
  tags: ["webhooks"],
  summary: "One subscription",
  request: { params: webhookIdParamsSchema },
  responses: {
    200: { description: "The subscription", content: jsonContent(subscriptionSchema) },
    ...errorResponses({ 404: NOT_FOUND }),
  },
});

/** `DELETE /webhooks/{webhook_id}`. */
export const deleteWebhookRoute = createRoute({
  method: "delete",
  path: "/{webhook_id}",
  tags: ["webhooks"],
  summary: "Delete a subscription",
  description: "Nothing more is sent to it, pending deliveries included.",
  request: { params: webhookIdParamsSchema },
  responses: {
    200: {
      description: "Deleted",
      content: jsonContent(z.object({ deleted: z.literal(true), id: z.string() })),
    },
    ...errorResponses({ 404: NOT_FOUND }),
  },
});

/** `GET /webhooks/{webhook_id}/deliveries`. */
export const listDeliveriesRoute = createRoute({
  method: "get",
  path: "/{webhook_id}/deliveries",
  tags: ["webhooks"],
  summary: "A subscription's recent deliveries",
  request: { params: webhookIdParamsSchema, query: deliveriesQuerySchema },
  responses: {
    200: {
      description: "Newest first, each with its attempts",
      content: jsonContent(deliveryListSchema),
    },
    ...errorResponses({ 404: NOT_FOUND, 422: "`limit` is not a whole number from 1 to 100" }),
  },
});

/** `POST /webhooks/{webhook_id}/deliveries/{delivery_id}/replay`. */
export const replayDeliveryRoute = createRoute({
  method: "post",
  path: "/{webhook_id}/deliveries/{delivery_id}/replay",
  tags: ["webhooks"],
  summary: "Send a settled delivery again",
  description:
    "One more attempt, at once, with the same webhook-id (receivers that keep ids drop it if they had it); no retries follow it.",
  request: { params: deliveryParamsSchema },
  responses: {
    202: { description: "The delivery, pending again", content: jsonContent(deliverySchema) },
    ...errorResponses({
      404: "No such subscription or delivery (`delivery_not_found`)",
      409: "The delivery is still pending: its next attempt is scheduled (`delivery_pending`)",
    }),
  },
});

/** `GET /webhooks/tasks/{task_id}/deliveries`. */
export const listTaskDeliveriesRoute = createRoute({
  method: "get",
  path: "/tasks/{task_id}/deliveries",
  tags: ["webhooks"],
  summary: "The deliveries of a task's own notify URL",
  request: {
    params: z.object({ task_id: taskDeliveryParamsSchema.shape.task_id }),
    query: deliveriesQuerySchema,
  },
  responses: {
    200: {
      description: "Newest first, each with its attempts",
      content: jsonContent(deliveryListSchema),
    },
    ...errorResponses({ 422: "`limit` is not a whole number from 1 to 100" }),
  },
});

/** `POST /webhooks/tasks/{task_id}/deliveries/{delivery_id}/replay`. */
export const replayTaskDeliveryRoute = createRoute({
  method: "post",
  path: "/tasks/{task_id}/deliveries/{delivery_id}/replay",
  tags: ["webhooks"],
  summary: "Send a task's settled delivery again",
  description: "One more attempt, at once, with the same webhook-id; no retries follow it.",
  request: { params: taskDeliveryParamsSchema },
  responses: {
    202: { description: "The delivery, pending again", content: jsonContent(deliverySchema) },
    ...errorResponses({
      404: "No such delivery for that task (`delivery_not_found`)",
      409: "The delivery is still pending (`delivery_pending`)",
    }),
  },
});
