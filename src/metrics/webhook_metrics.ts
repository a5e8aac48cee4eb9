/**
 * The webhook delivery counter, shared by the API's metrics and a worker's
 * (both send deliveries): one series per attempt outcome.
 *
 * @module
 */
import { Counter, type Registry } from "prom-client";

/** The hook the webhook dispatcher moves. */
export interface WebhookMetrics {
  /** Counts a webhook delivery attempt by its outcome (`src/webhooks/dispatcher.ts`). */
  webhookAttempt(outcome: string): void;
}

/** Adds the webhook delivery counter to `registry`. */
export function addWebhookMetrics(registry: Registry): WebhookMetrics {
  const attempts = new Counter({
    name: "wattcast_webhook_deliveries_total",
    help:
      "Webhook delivery attempts made by this process, by outcome: delivered (2xx), retry (failed, tried again later), failed (failed, no attempt left), gone (410: stopped), refused (the URL resolved to a private address).",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  return {
    webhookAttempt(outcome) {
      attempts.inc({ outcome });
    },
  };
}
