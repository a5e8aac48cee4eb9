/**
 * Webhook delay: from a worker's report (its tracker's compare-and-set) to
 * a subscriber's receipt of the signed POST, in embedded mode (SQLite) and
 * in Redis mode (the API instance's dispatcher, through the REST gateway).
 * The dispatcher runs a pass on every event its hub hears; deliveries are
 * claimed and settled in the broker as in production.
 *
 * @module
 */
import { percentile } from "./stats.ts";
import { startBenchApi, startFakeTraining } from "./broker_pair.ts";

/** Delays in milliseconds for one mode. */
export interface WebhookDelayResult {
  events: number;
  p50: number;
  p99: number;
  max: number;
}

/** Measures `events` webhook delays in one mode. */
export async function measureWebhookDelay(
  mode: "sqlite" | "redis",
  events = 100,
): Promise<WebhookDelayResult> {
  const api = await startBenchApi(mode, { WEBHOOK_ALLOW_PRIVATE: "true" });
  const sent = new Map<number, number>();
  const delays: number[] = [];
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (r) => {
    const epoch = JSON.parse(await r.text()).metrics?.epoch;
    if (epoch && sent.has(epoch)) delays.push(performance.now() - sent.get(epoch)!);
    return new Response(null, { status: 204 });
  });
  try {
    const subscribed = await fetch(`${api.url}/webhooks`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ url: `http://127.0.0.1:${receiver.addr.port}/`, events: "all" }),
    });
    if (subscribed.status !== 201) {
      throw new Error(`subscribing failed: ${await subscribed.text()}`);
    }
    const { tracker: worker, id } = await startFakeTraining(api.worker, events);
    for (let epoch = 1; epoch <= events; epoch++) {
      sent.set(epoch, performance.now());
      await worker.update(id, {
        status: "TRAINING_MODEL",
        metrics: { epoch, epochs: events, loss: 1 / epoch, val_loss: null },
      });
      await new Promise((r) => setTimeout(r, 20));
    }
    const until = Date.now() + 10_000;
    while (delays.length < events && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await worker.cancel(id);
    return {
      events: delays.length,
      p50: percentile(delays, 50),
      p99: percentile(delays, 99),
      max: Math.max(...delays),
    };
  } finally {
    await receiver.shutdown();
    await api.close();
  }
}
