import assert from "node:assert/strict";
import type { Task, TaskStatus } from "../src/domain/task.ts";
import { endingLine, exitCodeOf } from "./outcome.ts";

function task(status: TaskStatus, extra: Partial<Task> = {}): Task {
  return {
    task_id: "t1",
    meter_id: "m1",
    meter_type: "gas",
    status,
    progress: 100,
    message: "done",
    created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-01T00:00:03.500Z",
    estimated_completion: null,
    result: null,
    error: null,
    error_details: null,
    attempt: 1,
    options: { epochs: 1, batch_size: 8, learning_rate: 0.1 },
    metrics: null,
    ...extra,
  };
}

Deno.test("exit codes: FAILURE wins over CANCELLED, which wins over SUCCESS", () => {
  assert.equal(exitCodeOf([task("SUCCESS"), task("SUCCESS")]), 0);
  assert.equal(exitCodeOf([task("SUCCESS"), task("CANCELLED")]), 3);
  assert.equal(exitCodeOf([task("CANCELLED"), task("FAILURE")]), 1);
  assert.equal(exitCodeOf([]), 1);
});

Deno.test("ending lines say what happened and how long it took", () => {
  assert.match(endingLine(task("SUCCESS")), /^gas\/m1 \(task t1\): SUCCESS after 3\.5 s\. done$/);
  assert.match(
    endingLine(task("FAILURE", {
      error: "No readings",
      error_details: { code: "no_readings", stage: "FETCHING_DATA", hint: "Upload some." },
    })),
    /FAILURE after 3\.5 s: No readings\. Upload some\.$/,
  );
  // An error that is a sentence already keeps its one full stop.
  assert.match(
    endingLine(task("FAILURE", {
      error: "The meter has 0 days of hourly readings; training needs at least 36.",
      error_details: { code: "not_enough_readings", stage: "PREPROCESSING", hint: "Upload more." },
    })),
    /FAILURE after 3\.5 s: The meter has 0 days of hourly readings; training needs at least 36\. Upload more\.$/,
  );
  assert.match(endingLine(task("CANCELLED", { message: "Cancelled" })), /CANCELLED after/);
});
