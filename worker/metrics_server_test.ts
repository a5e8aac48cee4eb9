import assert from "node:assert/strict";
import { createWorkerMetrics } from "../src/metrics/worker_metrics.ts";
import { serveWorkerMetrics } from "./metrics_server.ts";

Deno.test("worker metrics server: a scrape that fails answers 500 without the error's text", async () => {
  const metrics = createWorkerMetrics();
  metrics.watchRunning(() => {
    throw new Error("connect to redis://admin:hunter2@10.0.0.7:6379 failed");
  });
  const server = await serveWorkerMetrics(metrics, { hostname: "127.0.0.1", port: 0, token: null });
  try {
    const response = await fetch(`${server.url}/metrics`);
    const body = await response.json();
    assert.equal(response.status, 500);
    assert.equal(body.error.code, "internal_error");
    assert.doesNotMatch(JSON.stringify(body), /hunter2|10\.0\.0\.7/);
  } finally {
    await server.close();
  }
});
