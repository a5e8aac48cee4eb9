import assert from "node:assert/strict";
import { defaultWindow, MAX_READING, parseUpload } from "./upload.ts";

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
  // Each value shown as the JSON had it, quoted once.
  assert.deepEqual(bad.problems.slice(0, 2).map((p) => p.reason), [
    'value "1" is not a number (a JSON number, such as 12.5)',
    "timestamp 5 is not a real ISO date and hour",
  ]);
  assert.equal(bad.problems[2].reason, "timestamp is missing");
  assert.equal(bad.unit, "item");
  assert.match(parseUpload("{", true).problems[0].reason, /not valid JSON/);
  assert.match(parseUpload('{"a":1}', true).problems[0].reason, /JSON array/);
  assert.match(parseUpload("", false).problems[0].reason, /no readings/);
});

Deno.test("-0 is negative, and one upload uses one time-zone convention", () => {
  const negative = parseUpload("2024-01-01 00:00:00,-0\n", false);
  assert.match(negative.problems[0].reason, /negative/);
  const mixed = parseUpload(
    "2024-01-01 00:00:00,1\n2024-01-01T01:00:00Z,2\n2024-01-01 02:00:00,3\n",
    false,
  );
  assert.deepEqual(mixed.problems.map((p) => p.line), [2]);
  assert.match(mixed.problems[0].reason, /has a time zone, unlike line 1/);
  const json = parseUpload(
    JSON.stringify([
      { timestamp: "2024-01-01T00:00:00Z", value: 1 },
      { timestamp: "2024-01-01T01:00:00", value: 2 },
    ]),
    true,
  );
  assert.match(json.problems[0].reason, /lacks a time zone, unlike item 1/);
});

Deno.test("timestamps outside the accepted span are refused by line", () => {
  const now = Date.UTC(2026, 10, 26, 12);
  const window = defaultWindow(now);
  const up = parseUpload(
    [
      "1999-12-31 23:00:00,1",
      "2000-01-01 00:00:00,1",
      "2026-11-27 12:00:00,1",
      "2026-11-29 13:00:00,1",
      "9999-12-31 23:00:00,1",
    ].join("\n"),
    false,
    window,
  );
  assert.deepEqual(up.problems.map((p) => p.line), [1, 4, 5]);
  assert.match(up.problems[2].reason, /outside the accepted span, 2000-01-01 to 2026-11-28T12:00Z/);
});

Deno.test("an upload of 200,000 bad lines is refused line by line without overflowing the stack", () => {
  const body = "x\n".repeat(200_000);
  const up = parseUpload(body, false);
  assert.equal(up.problems.length, 199_999, "every line but the first (taken as a header)");
  assert.equal(up.problems[0].line, 2);
});

Deno.test("a CSV file run together on one line (curl -d @file) is refused saying to use --data-binary", () => {
  for (
    const body of [
      "timestamp,value2024-01-01 00:00:00,12.52024-01-01 01:00:00,11.9",
      "2024-01-01 00:00:00,12.52024-01-01 01:00:00,11.9",
      "2024-01-01T00:00:00Z,12.52024-01-01T01:00:00Z,11.9\n",
    ]
  ) {
    const up = parseUpload(body, false);
    assert.equal(up.series.timestamps.length, 0);
    assert.equal(up.problems.length, 1, body);
    assert.equal(up.problems[0].line, 1);
    assert.match(up.problems[0].reason, /line breaks were lost.*--data-binary/);
  }
  // One reading on one line is a good upload, with or without its line break.
  for (const body of ["2024-01-01 00:00:00,12.5", "2024-01-01 00:00:00,12.5\n"]) {
    assert.deepEqual(parseUpload(body, false).problems, []);
  }
});
