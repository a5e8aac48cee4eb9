import assert from "node:assert/strict";
import { HOUR_MS, seriesSince, toHourlyGrid } from "./series.ts";

Deno.test("toHourlyGrid puts readings on a contiguous grid and marks missing hours as NaN", () => {
  const grid = toHourlyGrid({ timestamps: [0, HOUR_MS, 4 * HOUR_MS], values: [1, 2, 5] });
  assert.equal(grid.start, 0);
  assert.deepEqual([...grid.values], [1, 2, NaN, NaN, 5]);
});

Deno.test("seriesSince keeps the readings from a time on, by binary search", () => {
  const series = { timestamps: [0, 1, 2, 5, 9].map((h) => h * HOUR_MS), values: [1, 2, 3, 4, 5] };
  assert.deepEqual(seriesSince(series, 2 * HOUR_MS).values, [3, 4, 5]);
  assert.deepEqual(seriesSince(series, 3 * HOUR_MS).values, [4, 5]);
  assert.equal(seriesSince(series, 0), series, "nothing before: the same series");
  assert.deepEqual(seriesSince(series, 10 * HOUR_MS).values, []);
});
