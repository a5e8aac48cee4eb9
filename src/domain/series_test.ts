import assert from "node:assert/strict";
import { HOUR_MS, toHourlyGrid } from "./series.ts";

Deno.test("toHourlyGrid puts readings on a contiguous grid and marks missing hours as NaN", () => {
  const grid = toHourlyGrid({ timestamps: [0, HOUR_MS, 4 * HOUR_MS], values: [1, 2, 5] });
  assert.equal(grid.start, 0);
  assert.deepEqual([...grid.values], [1, 2, NaN, NaN, 5]);
});
