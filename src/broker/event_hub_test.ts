import assert from "node:assert/strict";
import { sampleTask } from "./broker_conformance.ts";
import { createEventHub } from "./event_hub.ts";
import { createMemoryBroker } from "./memory_broker.ts";
import type { Broker, TaskEventListener } from "./broker.ts";
import type { TaskEvent } from "../domain/task.ts";

function countingBroker(inner: Broker) {
  let subscriptions = 0;
  let listener: TaskEventListener | undefined;
  const broker: Broker = {
    ...inner,
    subscribe(l) {
      subscriptions++;
      listener = l;
      return inner.subscribe(l);
    },
  };
  return {
    broker,
    subscriptions: () => subscriptions,
    resync: () => listener?.onResync?.(),
  };
}

Deno.test("one upstream subscription serves every watcher, routed by task", async () => {
  const inner = createMemoryBroker({ taskTtlSeconds: 60 });
  const { broker, subscriptions } = countingBroker(inner);
  const hub = createEventHub(broker);
  const a = sampleTask(), b = sampleTask();
  const heardA: TaskEvent[] = [], heardB: TaskEvent[] = [], heardAll: TaskEvent[] = [];
  const offs = await Promise.all([
    hub.watch(a.task_id, { onEvent: (e) => heardA.push(e) }),
    hub.watch(a.task_id, { onEvent: (e) => heardA.push(e) }),
    hub.watch(b.task_id, { onEvent: (e) => heardB.push(e) }),
    hub.watchAll({ onEvent: (e) => heardAll.push(e) }),
  ]);
  assert.equal(subscriptions(), 1);
  assert.equal(hub.watchers(), 4);
  await inner.createTask(a, { ...a, options: a.options });
  await inner.createTask(b, { ...b, options: b.options });
  assert.equal(heardA.length, 2);
  assert.equal(heardB.length, 1);
  assert.deepEqual(heardAll.map((e) => e.task.task_id), [a.task_id, b.task_id]);
  offs.forEach((off) => {
    off();
    off();
  });
  assert.equal(hub.watchers(), 0);
  hub.close();
});

Deno.test("a resync reaches every watcher", async () => {
  const { broker, resync } = countingBroker(
    createMemoryBroker({ taskTtlSeconds: 60 }),
  );
  const hub = createEventHub(broker);
  let resyncs = 0;
  await hub.watch("x", { onEvent: () => {}, onResync: () => resyncs++ });
  await hub.watch("y", { onEvent: () => {}, onResync: () => resyncs++ });
  await hub.watchAll({ onEvent: () => {}, onResync: () => resyncs++ });
  resync();
  assert.equal(resyncs, 3);
  hub.close();
  assert.equal(hub.watchers(), 0);
  await assert.rejects(hub.watch("z", { onEvent: () => {} }), /closed/);
  await assert.rejects(hub.watchAll({ onEvent: () => {} }), /closed/);
});
