import assert from "node:assert/strict";
import { buildSamples, complete, dayStarts, HOUR_MS, scalingOf, toHourlyGrid } from "./features.ts";

const window = { lookback: 4, horizon: 2 };

function grid(values: number[], start = Date.UTC(2024, 0, 1)) {
  return toHourlyGrid({ timestamps: values.map((_, i) => start + i * HOUR_MS), values });
}

Deno.test("toHourlyGrid marks missing hours as NaN", () => {
  const g = toHourlyGrid({ timestamps: [0, HOUR_MS, 4 * HOUR_MS], values: [1, 2, 5] });
  assert.deepEqual([...g.values].map((v) => Number.isNaN(v) ? null : v), [1, 2, null, null, 5]);
});

Deno.test("scalingOf ignores NaN; complete spots gaps", () => {
  assert.deepEqual(scalingOf([1, 3, NaN]), { mean: 2, std: 1 });
  assert.ok(complete([1, 2, 3], 0, 3));
  assert.ok(!complete([1, NaN, 3], 0, 3));
  assert.ok(!complete([1, 2], -1, 2));
});

Deno.test("day starts follow the grid's own clock", () => {
  const g = grid(Array(100).fill(1), Date.UTC(2024, 0, 1, 22)); // starts at 22:00
  assert.deepEqual(dayStarts(g, 0, 100), [2, 26, 50, 74, 98]);
  assert.deepEqual(dayStarts(g, 3, 60), [26, 50]);
});

Deno.test("samples sit at day starts, with the week's lags, the weekday, and the next hours", () => {
  const values = Array.from({ length: 24 * 4 }, (_, i) => i);
  const g = grid(values); // 2024-01-01 is a Monday
  const scaling = { mean: 0, std: 1 };
  const set = buildSamples(g, scaling, window, 0, values.length);
  assert.deepEqual(set.origins, [24, 48, 72]);
  assert.equal(set.features, 4 + 7);
  assert.deepEqual([...set.inputs.slice(0, 4)], [20, 21, 22, 23]);
  assert.deepEqual([...set.inputs.slice(4, 11)], [0, 0, 1, 0, 0, 0, 0], "Tuesday");
  assert.deepEqual([...set.targets.slice(0, 2)], [24, 25]);
});

Deno.test("windows touching a gap are skipped, and the range bounds the targets", () => {
  const values = Array.from({ length: 24 * 4 }, (_, i) => i);
  values[47] = NaN; // the last lag of day 2
  const set = buildSamples(grid(values), { mean: 0, std: 1 }, window, 0, 73);
  assert.deepEqual(set.origins, [24], "day 2 has a gap; day 3's targets end past the range");
});
