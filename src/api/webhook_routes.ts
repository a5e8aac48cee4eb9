/**
 * `/webhooks`: standing subscriptions to task events (create, list, read,
 * delete), their recent deliveries and replays; and the deliveries of a
 * task's own `notify` URL under `/webhooks/tasks/{task_id}`. Sending is the
 * dispatcher's (`src/webhooks/dispatcher.ts`); these routes only keep
 * what it reads.
 *
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { WebhookStore } from "../broker/webhook_store.ts";
import {
  type DeliveryTarget,
  type PublicSubscription,
  subscriptionTarget,
  taskTarget,
  type WebhookDelivery,
  type WebhookSubscription,
} from "../domain/webhook.ts";
import { targetProblem } from "../webhooks/address_guard.ts";
import { newSecret } from "../webhooks/message.ts";
import { principalOf } from "./access.ts";
import { limitBody } from "./body_limit.ts";
import { ApiError, fieldProblems, validationError } from "./errors.ts";
import { requestHook, validationHook } from "./openapi.ts";
import {
  createWebhookRoute,
  deleteWebhookRoute,
  getWebhookRoute,
  listDeliveriesRoute,
  listTaskDeliveriesRoute,
  listWebhooksRoute,
  replayDeliveryRoute,
  replayTaskDeliveryRoute,
} from "./openapi_webhooks.ts";
import { subscriptionRequestSchema } from "./webhook_request.ts";
import { parseJsonBody } from "./json_body.ts";

/** How webhook targets are checked. */
export interface WebhookRouteSettings {
  /** Accept loopback and private addresses (`WEBHOOK_ALLOW_PRIVATE`). */
  allowPrivate: boolean;
  /** The key of per-task notifications (`WEBHOOK_SECRET`); null when unset. */
  secret: string | null;
}

/** What the webhook routes need. */
export interface WebhookRoutesDeps {
  store: WebhookStore;
  settings: WebhookRouteSettings;
  /** Tells this process's dispatcher that something is due or changed (a replay, a new subscription). */
  wake?: () => void;
}

/** Largest subscription request body accepted. */
const MAX_BODY_BYTES = 8 * 1024;

/** Deliveries listed when `limit` is not given. */
const DEFAULT_LIMIT = 20;

/**
 * Refuses a target on a loopback or private address (or one that does not
 * resolve) with a 400 naming the field, unless private targets are allowed.
 */
export async function refuseUnreachable(
  url: string,
  field: string,
  settings: Pick<WebhookRouteSettings, "allowPrivate">,
): Promise<void> {
  if (settings.allowPrivate) return;
  const problem = await targetProblem(url);
  if (problem === null) return;
  throw new ApiError(400, "webhook_target_refused", `Invalid request: ${field} ${problem}.`, {
    fields: [{ field, message: problem }],
  });
}

/** A subscription as answered: without its key, with where its deliveries are. */
function publicSubscription(
  s: WebhookSubscription,
): PublicSubscription & { deliveries_url: string } {
  const { secret: _secret, ...rest } = s;
  return { ...rest, deliveries_url: `/webhooks/${s.id}/deliveries` };
}

/** A delivery as answered: its attempts, not its body or its claim. */
function publicDelivery(d: WebhookDelivery) {
  return {
    id: d.id,
    target: d.target,
    url: d.url,
    format: d.format,
    task_id: d.task_id,
    event_id: d.event_id,
    task_status: d.task_status,
    created_at: d.created_at,
    state: d.state,
    attempts: d.attempts,
    next_attempt_at: d.next_attempt_at === null ? null : new Date(d.next_attempt_at).toISOString(),
    history: d.history,
  };
}

/** Builds the `/webhooks` routes. */
export function createWebhookRoutes(deps: WebhookRoutesDeps): OpenAPIHono {
  const routes = new OpenAPIHono({ strict: false, defaultHook: validationHook });
  const { store } = deps;

  async function subscriptionOr404(id: string): Promise<WebhookSubscription> {
    const found = await store.getSubscription(id);
    if (!found) {
      throw new ApiError(
        404,
        "webhook_not_found",
        `No webhook subscription has the id "${id.slice(0, 64)}"; GET /webhooks lists them.`,
      );
    }
    return found;
  }

  async function listOf(target: DeliveryTarget, limit: string | undefined) {
    const deliveries = await store.listDeliveries(target, limit ? Number(limit) : DEFAULT_LIMIT);
    return { deliveries: deliveries.map(publicDelivery) };
  }

  async function replay(target: DeliveryTarget, deliveryId: string) {
    const found = await store.getDelivery(deliveryId);
    if (!found || found.target !== target) {
      throw new ApiError(
        404,
        "delivery_not_found",
        `No delivery "${deliveryId.slice(0, 64)}" of this target; list them with GET …/deliveries.`,
      );
    }
    const result = await store.replay(deliveryId, Date.now());
    if (result.replayed) deps.wake?.();
    if (!result.replayed) {
      throw new ApiError(
        409,
        "delivery_pending",
        `Delivery ${deliveryId} is still pending: its next attempt is scheduled${
          found.next_attempt_at ? ` for ${new Date(found.next_attempt_at).toISOString()}` : ""
        }. Replay it once it has settled.`,
      );
    }
    return publicDelivery(result.delivery);
  }

  // The task routes first: their static `tasks` segment wins over `{webhook_id}`.
  routes.openapi(
    listTaskDeliveriesRoute,
    async (c) => {
      const { task_id } = c.req.valid("param");
      return c.json(await listOf(taskTarget(task_id), c.req.valid("query").limit), 200);
    },
    requestHook(listTaskDeliveriesRoute.request),
  );
  routes.openapi(replayTaskDeliveryRoute, async (c) => {
    const { task_id, delivery_id } = c.req.valid("param");
    return c.json(await replay(taskTarget(task_id), delivery_id), 202);
  });

  // Documented, not validated by the route: the handler reads the body strictly itself.
  routes.openAPIRegistry.registerPath(createWebhookRoute);
  routes.post(
    "/",
    limitBody(MAX_BODY_BYTES, "a subscription is a small JSON object."),
    async (c) => {
      const body = parseJsonBody(
        await c.req.text(),
        '{"url": "https://hooks.example.com/wattcast", "events": "final"}',
      );
      const parsed = subscriptionRequestSchema.safeParse(body);
      if (!parsed.success) throw validationError(fieldProblems(parsed.error));
      await refuseUnreachable(parsed.data.url, "url", deps.settings);
      const principal = principalOf(c);
      const subscription: WebhookSubscription = {
        id: `wh_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`,
        ...parsed.data,
        secret: newSecret(),
        created_at: new Date().toISOString(),
        ...(principal.via === "anonymous" ? {} : { created_by: principal.name }),
        disabled_at: null,
        disabled_reason: null,
      };
      await store.putSubscription(subscription);
      deps.wake?.();
      c.header("Location", `/webhooks/${subscription.id}`);
      return c.json({ ...publicSubscription(subscription), secret: subscription.secret }, 201);
    },
  );
  routes.openapi(
    listWebhooksRoute,
    async (c) =>
      c.json({ webhooks: (await store.listSubscriptions()).map(publicSubscription) }, 200),
  );
  routes.openapi(
    getWebhookRoute,
    async (c) =>
      c.json(publicSubscription(await subscriptionOr404(c.req.valid("param").webhook_id)), 200),
  );
  routes.openapi(deleteWebhookRoute, async (c) => {
    const { webhook_id } = c.req.valid("param");
    await subscriptionOr404(webhook_id);
    await store.deleteSubscription(webhook_id);
    return c.json({ deleted: true as const, id: webhook_id }, 200);
  });
  routes.openapi(
    listDeliveriesRoute,
    async (c) => {
      const { webhook_id } = c.req.valid("param");
      await subscriptionOr404(webhook_id);
      return c.json(await listOf(subscriptionTarget(webhook_id), c.req.valid("query").limit), 200);
    },
    requestHook(listDeliveriesRoute.request),
  );
  routes.openapi(replayDeliveryRoute, async (c) => {
    const { webhook_id, delivery_id } = c.req.valid("param");
    await subscriptionOr404(webhook_id);
    return c.json(await replay(subscriptionTarget(webhook_id), delivery_id), 202);
  });
  return routes;
}
