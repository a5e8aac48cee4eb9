import assert from "node:assert/strict";
import { DEFAULT_OPTIONS, toTrainRequest, trainRequestSchema } from "./train_request.ts";
import { fieldProblems } from "./errors.ts";

Deno.test("a minimal request gets the default options", () => {
  const parsed = trainRequestSchema.parse({
    meter_id: "meter_test_001",
    meter_type: "electricity",
  });
  assert.deepEqual(toTrainRequest(parsed), {
    meter: { meter_id: "meter_test_001", meter_type: "electricity" },
    options: DEFAULT_OPTIONS,
    notify: null,
  });
});

Deno.test("notify takes a URL and a format (standard by default); anything else is named", () => {
  const base = { meter_id: "m1", meter_type: "gas" };
  const parsed = trainRequestSchema.parse({ ...base, notify: { url: "https://hooks.example/x" } });
  assert.deepEqual(toTrainRequest(parsed).notify, {
    url: "https://hooks.example/x",
    format: "standard",
  });
  const bad = trainRequestSchema.safeParse({
    ...base,
    notify: { url: "file:///etc/passwd", format: "fax", to: "me" },
  });
  assert.ok(!bad.success);
  assert.deepEqual(fieldProblems(bad.error).map((f) => f.field).sort(), [
    "notify.format",
    "notify.to",
    "notify.url",
  ]);
  const notObject = trainRequestSchema.safeParse({ ...base, notify: "https://hooks.example/x" });
  assert.ok(!notObject.success);
  assert.deepEqual(fieldProblems(notObject.error).map((f) => f.field), ["notify"]);
});

Deno.test("every bad field is named", () => {
  const result = trainRequestSchema.safeParse({
    meter_id: "../etc/passwd",
    meter_type: "plutonium",
    epochs: 0,
    learning_rate: "fast",
    colour: "red",
  });
  assert.ok(!result.success);
  const fields = fieldProblems(result.error).map((f) => f.field).sort();
  assert.deepEqual(fields, [
    "colour",
    "epochs",
    "learning_rate",
    "meter_id",
    "meter_type",
  ]);
});

Deno.test("meter ids are bounded in length and characters", () => {
  const ok = (id: string) =>
    trainRequestSchema.safeParse({ meter_id: id, meter_type: "gas" }).success;
  assert.ok(ok("a"));
  assert.ok(ok("A".repeat(64)));
  assert.ok(!ok("A".repeat(65)));
  assert.ok(!ok("_x"));
  assert.ok(!ok("a b"));
  assert.ok(!ok(""));
});
