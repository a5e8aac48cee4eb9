/**
 * A real worker process (`worker/main.ts`) with `WORKER_METRICS_PORT`
 * against a real `redis-server`: its own `/metrics` counts the job it
 * claimed and trained, its training time and its broker calls and Redis
 * commands, behind `METRICS_TOKEN`.
 */
import assert from "node:assert/strict";
import { freePort, needsRedis, startRedis } from "./redis_server.ts";
import { spawnDeno } from "./processes.ts";
import { parsePrometheusText } from "./prometheus_text.ts";
import { parseConfig } from "../src/config.ts";
import { createRedisBroker } from "../src/broker/redis_broker.ts";
import { serveGateway } from "../src/gateway/serve_gateway.ts";
import { startService } from "../src/server.ts";

const TOKEN = "worker-metrics-token";
const METRICS_TOKEN = "worker-metrics-0123456789";

Deno.test({
  name: "a worker serves its own /metrics: jobs claimed and finished, training, broker calls",
  ...needsRedis(),
  fn: async () => {
    const redis = await startRedis();
    const gateway = await serveGateway({ redisUrl: redis.url, token: TOKEN, port: 0 });
    const dataDir = await Deno.makeTempDir({ prefix: "wattcast-worker-metrics-" });
    const config = parseConfig({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir });
    const broker = await createRedisBroker({
      url: gateway.url,
      token: TOKEN,
      taskTtlSeconds: 3600,
    });
    const api = await startService(config, broker, { runJobs: false, mode: "api" });
    const metricsPort = freePort();
    const worker = spawnDeno("worker", "worker/main.ts", {
      UPSTASH_REDIS_REST_URL: gateway.url,
      UPSTASH_REDIS_REST_TOKEN: TOKEN,
      DATA_DIR: dataDir,
      HOST: "127.0.0.1",
      WORKER_METRICS_PORT: String(metricsPort),
      METRICS_TOKEN,
    });
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    const scrape = async () => {
      const response = await fetch(metricsUrl, {
        headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
      });
      const text = await response.text();
      assert.equal(response.status, 200, text);
      return parsePrometheusText(text);
    };
    try {
      await worker.waitFor(/worker \d+ running/);
      assert.match(
        worker.output(),
        new RegExp(`metrics at http://127\\.0\\.0\\.1:${metricsPort}/metrics`),
      );

      const refused = await fetch(metricsUrl);
      assert.equal(refused.status, 401);
      assert.equal((await refused.json()).error.code, "metrics_token_required");
      const elsewhere = await fetch(`http://127.0.0.1:${metricsPort}/health`);
      assert.equal(elsewhere.status, 404);
      assert.equal((await elsewhere.json()).error.code, "not_found");

      const before = await scrape();
      assert.equal(before.value("wattcast_worker_jobs_claimed_total"), 0);
      assert.equal(before.value("wattcast_worker_jobs_running"), 0);

      const created = await fetch(`${api.url}/trainmodel/`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ meter_id: "meter_test_001", meter_type: "electricity", epochs: 3 }),
      });
      assert.equal(created.status, 202);
      const { task_id } = await created.json();
      const until = Date.now() + 60_000;
      let status = "";
      while (!["SUCCESS", "FAILURE", "CANCELLED"].includes(status)) {
        if (Date.now() > until) throw new Error(`the task never ended:\n${worker.output()}`);
        await new Promise((r) => setTimeout(r, 100));
        status = (await (await fetch(`${api.url}/trainmodel/status/${task_id}`)).json()).status;
      }
      assert.equal(status, "SUCCESS");

      // The outcome is counted just after the acknowledgement the API saw as SUCCESS.
      let after = await scrape();
      for (
        let i = 0;
        i < 50 && !after.value("wattcast_worker_jobs_finished_total", { outcome: "succeeded" });
        i++
      ) {
        await new Promise((r) => setTimeout(r, 50));
        after = await scrape();
      }
      assert.equal(after.value("wattcast_worker_jobs_claimed_total"), 1);
      assert.equal(after.value("wattcast_worker_jobs_finished_total", { outcome: "succeeded" }), 1);
      assert.equal(after.value("wattcast_worker_jobs_running"), 0);
      assert.equal(after.value("wattcast_training_duration_seconds_count"), 1);
      assert.ok(after.value("wattcast_training_duration_seconds_sum")! > 0);
      assert.equal(after.value("wattcast_training_epochs_per_second_count"), 1);
      assert.ok(after.value("wattcast_broker_calls_total", { operation: "claimJob" })! >= 1);
      assert.equal(after.value("wattcast_broker_calls_total", { operation: "ackJob" }), 1);
      assert.ok(after.value("wattcast_redis_commands_total", { command: "script:claim" })! >= 1);
      assert.equal(after.value("wattcast_queue_jobs", { state: "waiting" }), 0);
      assert.equal(after.value("wattcast_tasks", { status: "SUCCESS" }), 1);
    } finally {
      await worker.stop();
      await api.close();
      await gateway.close();
      await redis.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
