import assert from "node:assert/strict";
import { createMemoryBroker } from "../broker/memory_broker.ts";
import { sampleTask } from "../broker/broker_conformance.ts";
import { createEventHub } from "../broker/event_hub.ts";
import { createTracker } from "../tracker/tracker.ts";
import { coalesceReads } from "./coalesced_reads.ts";

Deno.test("concurrent identical reads share one broker read and one result", async () => {
  const broker = createMemoryBroker({ taskTtlSeconds: 60 });
  const task = sampleTask();
  await broker.createTask(task, { ...task, options: task.options });
  let reads = 0;
  const reads$ = coalesceReads({
    getTask: (id) => (reads++, broker.getTask(id)),
    readEvents: (id, after) => (reads++, broker.readEvents(id, after)),
  });
  const results = await Promise.all(
    Array.from({ length: 100 }, () => reads$.getTask(task.task_id)),
  );
  assert.equal(reads, 1);
  assert.ok(results.every((r) => r === results[0]), "the same object for every caller");
  await reads$.getTask(task.task_id);
  assert.equal(reads, 2, "a later read is a new read");
  await Promise.all([
    reads$.readEvents(task.task_id, "0-0"),
    reads$.readEvents(task.task_id, "0-0"),
  ]);
  assert.equal(reads, 3);
  await Promise.all([
    reads$.readEvents(task.task_id, "0-0"),
    reads$.readEvents(task.task_id, "1-0"),
  ]);
  assert.equal(reads, 5, "different ranges are different reads");
});

Deno.test("with the hub, a finished read is kept for later streams until the task changes", async () => {
  const broker = createMemoryBroker({ taskTtlSeconds: 60 });
  const hub = createEventHub(broker);
  const tracker = createTracker(broker);
  try {
    const created = await tracker.create({ meter_id: "kept", meter_type: "gas" }, {
      epochs: 1,
      batch_size: 8,
      learning_rate: 0.1,
    });
    assert.ok(created.created);
    const task = created.task;
    await tracker.update(task.task_id, { status: "FETCHING_DATA" });
    let reads = 0;
    const shared = coalesceReads({
      getTask: (id) => (reads++, broker.getTask(id)),
      readEvents: (id, after) => (reads++, broker.readEvents(id, after)),
    }, hub);
    const first = await shared.readEvents(task.task_id, "0-0");
    const later = await shared.readEvents(task.task_id, "0-0");
    assert.equal(reads, 1, "the later replay shares the first one's read");
    assert.equal(later, first, "and its event objects (so their encoded frames)");
    assert.equal(first.length, 2);

    await tracker.update(task.task_id, { status: "PREPROCESSING" });
    await new Promise((r) => setTimeout(r, 10)); // the hub delivers the change
    const after = await shared.readEvents(task.task_id, "0-0");
    assert.equal(reads, 2, "a change of the task drops what was kept");
    assert.equal(after.length, 3, "so no stream misses the new event");

    const expiring = coalesceReads(
      {
        getTask: (id) => (reads++, broker.getTask(id)),
        readEvents: (id, a) => (reads++, broker.readEvents(id, a)),
      },
      hub,
      0,
    );
    await expiring.getTask(task.task_id);
    await expiring.getTask(task.task_id);
    assert.equal(reads, 4, "kept no longer than asked");
  } finally {
    hub.close();
  }
});
