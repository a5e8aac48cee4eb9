import assert from "node:assert/strict";
import { MAX_READING, parseUpload } from "./upload.ts";

const H = 3_600_000;

Deno.test("a clean CSV upload parses with its header", () => {
  const up = parseUpload("datetime,load\n2024-01-01 01:00:00,2\n2024-01-01 00:00:00,1.5\n", false);
  assert.deepEqual(up.problems, []);
  assert.deepEqual(up.series.timestamps, [Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 1) + H]);
  assert.deepEqual(up.series.values, [1.5, 2]);
});

Deno.test("every bad CSV line is named: unreadable, non-numeric, negative, absurd, duplicate", () => {
  const csv = [
    "datetime,load",
    "2024-01-01 00:00:00,1",
    "2024-01-01 01:00:00,abc",
    "not a date,2",
    "2024-01-01 02:00:00,-3",
    `2024-01-01 03:00:00,${MAX_READING * 10}`,
    "2024-01-01 00:00:00,7",
  ].join("\n");
  const up = parseUpload(csv, false);
  assert.deepEqual(up.problems.map((p) => p.line), [3, 4, 5, 6, 7]);
  assert.match(up.problems[0].reason, /not a number/);
  assert.match(up.problems[1].reason, /timestamp/);
  assert.match(up.problems[2].reason, /negative/);
  assert.match(up.problems[3].reason, /implausibly large/);
  assert.match(up.problems[4].reason, /repeats line 2/);
});

Deno.test("JSON uploads are checked item by item", () => {
  const ok = parseUpload(JSON.stringify([{ timestamp: "2024-01-01T00:00:00Z", value: 1.2 }]), true);
  assert.deepEqual(ok.problems, []);
  assert.equal(ok.series.values[0], 1.2);
  const bad = parseUpload(
    JSON.stringify([
      { timestamp: "2024-01-01T00:00:00Z", value: "1" },
      { timestamp: 5, value: 1 },
      null,
    ]),
    true,
  );
  assert.deepEqual(bad.problems.map((p) => p.line), [1, 2, 3]);
  assert.equal(bad.unit, "item");
  assert.match(parseUpload("{", true).problems[0].reason, /not valid JSON/);
  assert.match(parseUpload('{"a":1}', true).problems[0].reason, /JSON array/);
  assert.match(parseUpload("", false).problems[0].reason, /no readings/);
});
