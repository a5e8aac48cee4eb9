import assert from "node:assert/strict";
import { compareEventIds, createEventIdGenerator, isEventId } from "./event_id.ts";

Deno.test("event ids compare numerically, not as text", () => {
  assert.ok(compareEventIds("9-0", "10-0") < 0);
  assert.ok(compareEventIds("10-2", "10-10") < 0);
  assert.equal(compareEventIds("5-1", "5-1"), 0);
  assert.ok(compareEventIds("6-0", "5-99") > 0);
});

Deno.test("generated ids increase even when the clock stalls or goes back", () => {
  const clock = [100, 100, 100, 99, 101];
  const next = createEventIdGenerator(() => clock.shift()!);
  const ids = [next(), next(), next(), next(), next()];
  assert.deepEqual(ids, ["100-0", "100-1", "100-2", "100-3", "101-0"]);
  for (let i = 1; i < ids.length; i++) {
    assert.ok(compareEventIds(ids[i - 1], ids[i]) < 0);
  }
});

Deno.test("isEventId accepts only <ms>-<seq>", () => {
  assert.ok(isEventId("1700000000000-0"));
  assert.ok(!isEventId("17"));
  assert.ok(!isEventId("a-b"));
  assert.ok(!isEventId("1-2-3"));
  assert.ok(!isEventId(""));
});
