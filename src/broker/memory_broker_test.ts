import assert from "node:assert/strict";
import { brokerConformance, jobOf, sampleTask } from "./broker_conformance.ts";
import { createMemoryBroker } from "./memory_broker.ts";
import { weatherStoreConformance } from "./weather_store_conformance.ts";

brokerConformance(
  "memory",
  (options) => Promise.resolve(createMemoryBroker(options)),
);

Deno.test("memory broker: a reader of every task's events from before the kept ones learns of the gap", async () => {
  const broker = createMemoryBroker({ taskTtlSeconds: 60, maxAllEvents: 3 });
  const task = sampleTask();
  const created = await broker.createTask(task, jobOf(task));
  assert.ok(created.created);
  const first = (await broker.readAllEvents("0-0", 10)).events[0];
  let event = created.event;
  for (let p = 1; p <= 4; p++) {
    const result = await broker.commitTask({ ...event.task, progress: p }, event.id);
    assert.ok(result.committed);
    event = result.event;
  }
  const from = await broker.readAllEvents(first.seq!, 10);
  assert.equal(from.gap, true, "events after the position were trimmed");
  assert.deepEqual(from.events.map((e) => e.task.progress), [2, 3, 4]);
  const kept = await broker.readAllEvents(from.events[0].seq!, 10);
  assert.equal(kept.gap, false);
  assert.deepEqual(kept.events.map((e) => e.task.progress), [3, 4]);
});

weatherStoreConformance("memory", (options) => Promise.resolve(createMemoryBroker(options)));
