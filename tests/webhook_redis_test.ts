/**
 * Webhooks in Redis mode with two API instances on one Redis: both follow
 * the event log and both send due deliveries, yet each event reaches a
 * receiver once, and each attempt of a retried delivery is made once.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { createRedisBroker } from "../src/broker/redis_broker.ts";
import { parseConfig } from "../src/config.ts";
import { serveGateway } from "../src/gateway/serve_gateway.ts";
import { startService } from "../src/server.ts";
import type { Task } from "../src/domain/task.ts";
import { needsRedis, startRedis } from "./redis_server.ts";
import { startReceiver } from "./webhook_receiver.ts";

Deno.test({
  name: "redis: two instances send each webhook delivery once, and each retry once",
  ...needsRedis(),
  async fn() {
    const redis = await startRedis();
    const gateway = await serveGateway({ redisUrl: redis.url, token: "test", port: 0 });
    const config = parseConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      DATA_DIR: "off",
      WEBHOOK_ALLOW_PRIVATE: "true",
      WEBHOOK_RETRY_SCHEDULE: "0.3,0.3,0.3",
      WEBHOOK_POLL_SECONDS: "0.05",
    });
    const instance = async (runJobs: boolean) =>
      await startService(
        config,
        await createRedisBroker({ url: gateway.url, token: "test", taskTtlSeconds: 600 }),
        { runJobs, mode: "redis" },
      );
    const a = await instance(true);
    const b = await instance(false);
    const every = startReceiver([200]);
    const flaky = startReceiver([500, 200]);
    try {
      const subscribe = async (url: string, events: string) => {
        const response = await fetch(`${a.url}/webhooks`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ url, events }),
        });
        assert.equal(response.status, 201);
        return await response.json();
      };
      const all = await subscribe(every.url, "all");
      const final = await subscribe(flaky.url, "final");
      const listed = await (await fetch(`${b.url}/webhooks`)).json();
      assert.equal(listed.webhooks.length, 2, "the other instance sees the subscriptions");

      const started = await fetch(`${b.url}/trainmodel/`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ meter_id: "meter_test_001", meter_type: "electricity", epochs: 2 }),
      });
      const task = await started.json() as Task;
      assert.equal(started.status, 202, JSON.stringify(task));
      await flaky.waitFor(2);
      // Every delivery to the "all" subscriber settled (checked through the other instance).
      const until = Date.now() + 30_000;
      let settled: { state: string }[] = [];
      while (Date.now() < until) {
        settled = (await (await fetch(`${b.url}/webhooks/${all.id}/deliveries?limit=100`)).json())
          .deliveries;
        if (
          settled.some((d) => d.state === "delivered") &&
          settled.every((d) => d.state === "delivered")
        ) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // Time for a duplicate to show up, were one to be sent (several poll intervals and a retry).
      await new Promise((resolve) => setTimeout(resolve, 1500));

      assert.equal(flaky.received.length, 2, "one failed attempt and one retry, no more");
      assert.equal(new Set(flaky.received.map((r) => r.headers["webhook-id"])).size, 1);
      const statuses = every.received.map((r) =>
        (new Webhook(all.secret).verify(r.body, r.headers) as Task).status
      );
      // Deliveries are separate messages, sent concurrently: not necessarily in order.
      assert.ok(statuses.includes("SUCCESS"), statuses.join());
      const ids = every.received.map((r) => r.headers["webhook-id"]);
      assert.equal(new Set(ids).size, ids.length, "each event delivered once");
      const deliveries = await (await fetch(`${a.url}/webhooks/${all.id}/deliveries?limit=100`))
        .json();
      assert.equal(deliveries.deliveries.length, ids.length, "one delivery per event");
      assert.ok(deliveries.deliveries.every((d: { state: string }) => d.state === "delivered"));
      const [retried] = (await (await fetch(`${b.url}/webhooks/${final.id}/deliveries`)).json())
        .deliveries;
      assert.deepEqual(retried.history.map((h: { status_code: number }) => h.status_code), [
        500,
        200,
      ]);
    } finally {
      await every.close();
      await flaky.close();
      await a.close();
      await b.close();
      await gateway.close();
      await redis.stop();
    }
  },
});
