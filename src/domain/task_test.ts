import assert from "node:assert/strict";
import { canMove, isFinal } from "./task.ts";

Deno.test("the pipeline moves forward only", () => {
  assert.ok(canMove("PENDING", "FETCHING_DATA"));
  assert.ok(canMove("TRAINING_MODEL", "TRAINING_MODEL"));
  assert.ok(canMove("SAVING_MODEL", "SUCCESS"));
  assert.ok(!canMove("TRAINING_MODEL", "PREPROCESSING"));
  assert.ok(!canMove("PENDING", "SUCCESS"));
});

Deno.test("any live status can fail, be cancelled or retried; final ones cannot move", () => {
  for (const s of ["PENDING", "PREPROCESSING", "SAVING_MODEL"] as const) {
    assert.ok(canMove(s, "FAILURE"));
    assert.ok(canMove(s, "CANCELLED"));
    assert.ok(canMove(s, "RETRYING"));
  }
  for (const s of ["SUCCESS", "FAILURE", "CANCELLED"] as const) {
    assert.ok(isFinal(s));
    assert.ok(!canMove(s, "CANCELLED"));
    assert.ok(!canMove(s, "FAILURE"));
  }
  assert.ok(canMove("RETRYING", "FETCHING_DATA"));
  assert.ok(!isFinal("RETRYING"));
});
