import assert from "node:assert/strict";
import { brokerConformance, jobOf, sampleTask } from "./broker_conformance.ts";
import { needsRedis } from "../../tests/redis_server.ts";
import { startRedisBroker } from "../../tests/test_brokers.ts";
import { weatherStoreConformance } from "./weather_store_conformance.ts";

// The same conformance suite as the memory broker, against a real
// redis-server behind the REST gateway, through @upstash/redis.
brokerConformance("redis", (options) => startRedisBroker({ livenessMs: 500, ...options }), {
  testOptions: needsRedis(),
});

Deno.test({
  name: "redis broker: a reader of every task's events from before the kept ones learns of the gap",
  ...needsRedis(),
  fn: async () => {
    const broker = await startRedisBroker({ taskTtlSeconds: 60, maxAllEvents: 100 });
    try {
      const task = sampleTask();
      const created = await broker.createTask(task, jobOf(task));
      assert.ok(created.created);
      const first = (await broker.readAllEvents("0-0", 1)).events[0];
      let event = created.event;
      // XADD MAXLEN ~ trims whole nodes of 100 entries: 250 events trim some.
      for (let p = 1; p < 250; p++) {
        const result = await broker.commitTask({ ...event.task, progress: p % 100 }, event.id);
        assert.ok(result.committed);
        event = result.event;
      }
      const from = await broker.readAllEvents(first.seq!, 1000);
      assert.equal(from.gap, true);
      assert.ok(from.events.length < 249, "older events were trimmed");
      assert.equal(from.events.at(-1)!.id, event.id);
      const kept = await broker.readAllEvents(from.events[0].seq!, 1000);
      assert.equal(kept.gap, false);
      assert.equal(kept.events.length, from.events.length - 1);
    } finally {
      await broker.close();
    }
  },
});

weatherStoreConformance("redis", (options) => startRedisBroker(options), {
  testOptions: needsRedis(),
});
