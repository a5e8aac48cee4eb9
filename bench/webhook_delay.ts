/**
 * Webhook delay: from a worker's report (its tracker's compare-and-set) to
 * a subscriber's receipt of the signed POST, in embedded mode (SQLite) and
 * in Redis mode (the API instance's dispatcher, through the REST gateway).
 * The dispatcher runs a pass on every event its hub hears; deliveries are
 * claimed and settled in the broker as in production.
 *
 * @module
 */
import { UNLIMITED } from "./unlimited.ts";
import { parseConfig } from "../src/config.ts";
import { startService } from "../src/server.ts";
import { createTracker } from "../src/tracker/tracker.ts";
import { percentile } from "./stats.ts";
import { openBrokerPair } from "./broker_pair.ts";

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
  const cleanups: (() => Promise<void>)[] = [];
  const dataDir = await Deno.makeTempDir();
  const pair = await openBrokerPair(mode, dataDir);
  const { api: apiBroker, worker: workerBroker } = pair;
  cleanups.push(...pair.cleanups);
  const config = parseConfig({
    ...UNLIMITED,
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    WEBHOOK_ALLOW_PRIVATE: "true",
  });
  const service = await startService(config, apiBroker, {
    runJobs: false,
    mode: mode === "redis" ? "redis" : "embedded",
  });
  cleanups.unshift(() => service.close());
  const sent = new Map<number, number>();
  const delays: number[] = [];
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (r) => {
    const epoch = JSON.parse(await r.text()).metrics?.epoch;
    if (epoch && sent.has(epoch)) delays.push(performance.now() - sent.get(epoch)!);
    return new Response(null, { status: 204 });
  });
  cleanups.unshift(() => receiver.shutdown());
  try {
    const subscribed = await fetch(`${service.url}/webhooks`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ url: `http://127.0.0.1:${receiver.addr.port}/`, events: "all" }),
    });
    if (subscribed.status !== 201) {
      throw new Error(`subscribing failed: ${await subscribed.text()}`);
    }
    const worker = createTracker(workerBroker);
    const created = await worker.create({ meter_id: "meter_test_001", meter_type: "electricity" }, {
      epochs: events,
      batch_size: 64,
      learning_rate: 0.01,
    });
    if (!created.created) throw new Error("could not create the task");
    const id = created.task.task_id;
    await worker.update(id, { status: "FETCHING_DATA" });
    await worker.update(id, { status: "PREPROCESSING" });
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
    for (const cleanup of cleanups) await cleanup();
    await Deno.remove(dataDir, { recursive: true });
  }
}
