import assert from "node:assert/strict";
import { createMemoryBroker } from "../broker/memory_broker.ts";
import { sampleTask } from "../broker/broker_conformance.ts";
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
