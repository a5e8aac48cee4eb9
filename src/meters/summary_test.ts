import assert from "node:assert/strict";
import { summarize } from "./summary.ts";

const H = 3_600_000;

Deno.test("the summary counts readings, missing hours and gap runs", () => {
  const hours = [0, 1, 2, 5, 6, 10];
  // Water: zeros are real unless they run for days.
  const s = summarize({ timestamps: hours.map((h) => h * H), values: [1, 0, 2, 3, 0, 4] }, "water");
  assert.equal(s.count, 6);
  assert.equal(s.first, new Date(0).toISOString());
  assert.equal(s.last, new Date(10 * H).toISOString());
  assert.equal(s.missing_hours, 2 + 3);
  assert.equal(s.absent_hours, 2 + 3);
  assert.equal(s.gap_count, 2);
  assert.deepEqual(s.longest_gaps[0], {
    from: new Date(7 * H).toISOString(),
    to: new Date(9 * H).toISOString(),
    hours: 3,
  });
  assert.equal(s.zero_readings, 2);
});

Deno.test("the summary counts the zeros the cleaning policy takes as missing", () => {
  // Electricity: a run of zeros at the end of an export is missing data.
  const n = 72;
  const values = Array.from({ length: n }, (_, h) => h >= 60 ? 0 : 10 + (h % 24));
  const s = summarize({ timestamps: values.map((_, h) => h * H), values }, "electricity");
  assert.equal(s.absent_hours, 0);
  assert.equal(s.zeros_as_missing, 12);
  assert.equal(s.missing_hours, 12);
  assert.equal(s.gap_count, 1);
  assert.deepEqual(s.longest_gaps[0], {
    from: new Date(60 * H).toISOString(),
    to: new Date(71 * H).toISOString(),
    hours: 12,
  });
});
