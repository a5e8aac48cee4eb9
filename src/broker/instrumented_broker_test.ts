import assert from "node:assert/strict";
import { createMemoryBroker } from "./memory_broker.ts";
import { instrumentBroker } from "./instrumented_broker.ts";
import { jobOf, sampleTask } from "./broker_conformance.ts";

Deno.test("an instrumented broker reports each call by operation, and the ones that threw", async () => {
  const inner = createMemoryBroker({ taskTtlSeconds: 60 });
  const calls: [string, number, boolean][] = [];
  const broker = instrumentBroker(
    inner,
    (op, seconds, failed) => calls.push([op, seconds, failed]),
  );
  assert.equal(broker.kind, "memory");
  const task = sampleTask();
  const created = await broker.createTask(task, jobOf(task));
  assert.ok(created.created);
  assert.equal((await broker.getTask(task.task_id))?.task.task_id, task.task_id);
  await assert.rejects(broker.listTasks({ limit: 5, after: "not a cursor" }));
  assert.deepEqual(calls.map(([op, , failed]) => [op, failed]), [
    ["createTask", false],
    ["getTask", false],
    ["listTasks", true],
  ]);
  assert.ok(calls.every(([, seconds]) => seconds >= 0));
  assert.deepEqual(await broker.webhooks.listSubscriptions(), []);
  assert.deepEqual(
    calls.at(-1)?.slice(0, 1),
    ["webhooks.listSubscriptions"],
    "the webhook store's calls too",
  );
  await broker.close();
});

Deno.test("an instrumented broker reports the webhook store's calls as webhooks.<method>", async () => {
  const calls: string[] = [];
  const broker = instrumentBroker(
    createMemoryBroker({ taskTtlSeconds: 60 }),
    (operation) => calls.push(operation),
  );
  await broker.webhooks.getCursor();
  await broker.webhooks.advanceCursor("1-0");
  assert.equal(await broker.webhooks.getCursor(), "1-0");
  assert.deepEqual(calls, ["webhooks.getCursor", "webhooks.advanceCursor", "webhooks.getCursor"]);
});

Deno.test("an instrumented broker reports the weather store's calls as weather.<method>", async () => {
  const calls: string[] = [];
  const broker = instrumentBroker(
    createMemoryBroker({ taskTtlSeconds: 60 }),
    (operation) => calls.push(operation),
  );
  const meter = { meter_type: "electricity" as const, meter_id: "m1" };
  await broker.weather.setMeterSite(meter, "site_1");
  assert.equal(await broker.weather.meterSite(meter), "site_1");
  assert.equal(await broker.weather.countTemperatures("site_1"), 0);
  assert.deepEqual(calls, [
    "weather.setMeterSite",
    "weather.meterSite",
    "weather.countTemperatures",
  ]);
});
