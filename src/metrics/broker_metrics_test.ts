import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { addBrokerMetrics } from "./broker_metrics.ts";
import type { BrokerStats } from "../broker/broker.ts";

Deno.test("the broker gauges share one stats() call per scrape, and read the broker's figures", async () => {
  const registry = new Registry();
  const metrics = addBrokerMetrics(registry);
  let calls = 0;
  const stats: BrokerStats = {
    tasks: { PENDING: 3, SUCCESS: 2 },
    queuedJobs: 4,
    deliveredJobs: 1,
    oldestJobMs: Date.now() - 5000,
  };
  metrics.watchBroker({
    stats: () => {
      calls++;
      return Promise.resolve(stats);
    },
  });
  const text = await registry.metrics();
  assert.equal(calls, 1, "three gauges, one call");
  assert.match(text, /^wattcast_tasks\{status="PENDING"\} 3$/m);
  assert.match(text, /^wattcast_tasks\{status="FAILURE"\} 0$/m, "every status, 0 when none");
  assert.match(text, /^wattcast_queue_jobs\{state="waiting"\} 3$/m);
  assert.match(text, /^wattcast_queue_jobs\{state="delivered"\} 1$/m);
  const age = Number(/^wattcast_queue_oldest_job_age_seconds (\S+)$/m.exec(text)![1]);
  assert.ok(age >= 5 && age < 60, `age ${age}`);
  await registry.metrics();
  assert.equal(calls, 2, "the next scrape reads again");
});

Deno.test("a broker that fails its stats leaves the gauges empty, not the scrape failed", async () => {
  const registry = new Registry();
  const metrics = addBrokerMetrics(registry);
  metrics.watchBroker({ stats: () => Promise.reject(new Error("Redis is down")) });
  const text = await registry.metrics();
  assert.match(text, /^# TYPE wattcast_tasks gauge$/m);
  assert.doesNotMatch(text, /^wattcast_tasks\{/m);
  assert.doesNotMatch(text, /^wattcast_queue_jobs\{/m);
});
