import assert from "node:assert/strict";
import { groupProgress } from "./task_group.ts";
import type { Task, TaskStatus } from "./task.ts";

const task = (status: TaskStatus) => ({ status }) as Task;

Deno.test("a group's progress counts each task where it is, expired ones apart", () => {
  const progress = groupProgress([
    task("PENDING"),
    task("RETRYING"),
    task("TRAINING_MODEL"),
    task("FETCHING_DATA"),
    task("SUCCESS"),
    task("SUCCESS"),
    task("FAILURE"),
    task("CANCELLED"),
    null,
  ]);
  assert.deepEqual(progress, {
    total: 9,
    queued: 2,
    running: 2,
    succeeded: 2,
    failed: 1,
    cancelled: 1,
    expired: 1,
    done: false,
  });
});

Deno.test("a group is done when every task ended or expired", () => {
  assert.equal(groupProgress([task("SUCCESS"), null, task("FAILURE")]).done, true);
  assert.equal(groupProgress([task("SUCCESS"), task("SAVING_MODEL")]).done, false);
});
