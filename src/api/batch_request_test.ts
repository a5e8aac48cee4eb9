import assert from "node:assert/strict";
import { batchRequestSchema, MAX_BATCH_METERS, toBatchRequest } from "./batch_request.ts";
import { fieldProblems } from "./errors.ts";

function problems(body: unknown): string[] {
  const parsed = batchRequestSchema.safeParse(body);
  assert.equal(parsed.success, false, `${JSON.stringify(body)} should be refused`);
  return fieldProblems(parsed.error!).map((p) => `${p.field}: ${p.message}`);
}

Deno.test("a list of meters, with the options every task trains with", () => {
  const parsed = batchRequestSchema.parse({
    meters: [{ meter_id: "b1", meter_type: "gas" }, { meter_id: "b1", meter_type: "electricity" }],
    epochs: 3,
  });
  assert.deepEqual(toBatchRequest(parsed), {
    meters: [{ meter_id: "b1", meter_type: "gas" }, { meter_id: "b1", meter_type: "electricity" }],
    allOf: null,
    options: { epochs: 3, batch_size: 256, learning_rate: 0.003 },
  });
});

Deno.test("every meter of a type", () => {
  const parsed = batchRequestSchema.parse({ meter_type: "gas", all: true });
  assert.equal(toBatchRequest(parsed).allOf, "gas");
  assert.equal(toBatchRequest(parsed).meters, null);
});

Deno.test("each bad field is named", () => {
  assert.match(problems({})[0], /^meters: is required/);
  assert.match(problems({ all: true })[0], /^meter_type: is required with "all"/);
  assert.match(problems({ all: false, meter_type: "gas" }).join(), /^all: must be true/);
  assert.match(problems({ meters: [] })[0], /^meters: must name at least one meter/);
  assert.match(
    problems({ meters: [{ meter_id: "b1", meter_type: "gas" }], all: true, meter_type: "gas" })[0],
    /^meters: goes alone/,
  );
  assert.match(
    problems({ meters: [{ meter_id: "../x", meter_type: "gas" }] })[0],
    /^meters\.0\.meter_id: /,
  );
  assert.match(
    problems({ meters: [{ meter_id: "b1", meter_type: "oil" }] })[0],
    /^meters\.0\.meter_type: /,
  );
  assert.match(problems({ meters: [{ meter_id: "b1" }] })[0], /^meters\.0\.meter_type: /);
  assert.match(
    problems({ meters: [{ meter_id: "b1", meter_type: "gas", extra: 1 }] })[0],
    /^meters\.0\.extra: is not a known field/,
  );
  assert.match(
    problems({
      meters: [{ meter_id: "b1", meter_type: "gas" }, { meter_id: "b1", meter_type: "gas" }],
    })[0],
    /^meters\.1: names gas\/b1 again/,
  );
  assert.match(problems({ meters: "b1" })[0], /^meters: must be a list/);
  assert.match(
    problems({ meter_type: "gas", all: true, epochs: 0 })[0],
    /^epochs: must be at least 1/,
  );
  assert.match(
    problems({ meter_type: "gas", all: true, colour: 1 })[0],
    /^colour: is not a known field/,
  );
  const many = Array.from({ length: MAX_BATCH_METERS + 1 }, (_, i) => ({
    meter_id: `m${i}`,
    meter_type: "gas",
  }));
  assert.match(problems({ meters: many })[0], /^meters: must name at most 1000 meters/);
});
