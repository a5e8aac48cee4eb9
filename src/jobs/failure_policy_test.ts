import assert from "node:assert/strict";
import { TrainingError } from "../training/errors.ts";
import { BrokerTrouble } from "./durably.ts";
import { decideOnError, failureChange, JobStopped } from "./failure_policy.ts";

Deno.test("why a job stopped decides what becomes of it", () => {
  const boom = new Error("boom");
  assert.deepEqual(decideOnError(boom, new JobStopped("cancelled")), { action: "acknowledge" });
  assert.deepEqual(decideOnError(boom, new JobStopped("shutdown")), { action: "hand_back" });
  assert.deepEqual(decideOnError(boom, new JobStopped("lease_lost")), {
    action: "leave",
    reason: "lease_lost",
  });
  assert.deepEqual(decideOnError(new BrokerTrouble("Fetching readings failed"), undefined), {
    action: "leave",
    reason: "broker_unreachable",
  });
  assert.deepEqual(decideOnError(boom, undefined), { action: "fail" });
  const known = new TrainingError("no_readings", "No readings.", "Upload some.");
  assert.deepEqual(decideOnError(known, undefined), { action: "fail" });
});

Deno.test("a failure tells the user what to do, and never carries the raw error", () => {
  const known = failureChange(
    new TrainingError("no_readings", "No readings.", "Upload some."),
    "FETCHING_DATA",
    2,
  );
  assert.deepEqual(known, {
    status: "FAILURE",
    attempt: 2,
    error: "No readings.",
    error_details: { code: "no_readings", stage: "FETCHING_DATA", hint: "Upload some." },
  });
  const fault = failureChange(new TypeError("x is undefined at foo.ts:12"), "TRAINING_MODEL", 1);
  assert.equal(fault.error, "Training failed unexpectedly while training the model.");
  assert.equal(fault.error_details?.code, "internal_error");
  assert.doesNotMatch(JSON.stringify(fault), /undefined|foo\.ts/);
});
