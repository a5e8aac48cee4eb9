import assert from "node:assert/strict";
import {
  buildSamples,
  calendarFeatures,
  HOUR_MS,
  MIN_SAMPLES,
  scalingOf,
  toHourlyGrid,
} from "./features.ts";
import { TrainingError } from "./errors.ts";

function hourly(
  n: number,
  f: (i: number) => number,
  start = Date.UTC(2024, 0, 1),
) {
  return {
    timestamps: Array.from({ length: n }, (_, i) => start + i * HOUR_MS),
    values: Array.from({ length: n }, (_, i) => f(i)),
  };
}

Deno.test("toHourlyGrid marks missing hours as NaN", () => {
  const grid = toHourlyGrid({
    timestamps: [0, HOUR_MS, 4 * HOUR_MS],
    values: [1, 2, 5],
  });
  assert.equal(grid.values.length, 5);
  assert.deepEqual([...grid.values].map((v) => Number.isNaN(v) ? null : v), [
    1,
    2,
    null,
    null,
    5,
  ]);
});

Deno.test("calendar features encode hour and weekday", () => {
  const out = new Float32Array(9);
  calendarFeatures(Date.UTC(2024, 0, 1, 6), out, 0); // a Monday, 06:00
  assert.ok(Math.abs(out[0] - 1) < 1e-6, "sin(2π·6/24) = 1");
  assert.ok(Math.abs(out[1]) < 1e-6);
  assert.deepEqual([...out.slice(2)], [0, 1, 0, 0, 0, 0, 0]);
});

Deno.test("scalingOf ignores NaN", () => {
  const s = scalingOf([1, 3, NaN]);
  assert.equal(s.mean, 2);
  assert.equal(s.std, 1);
});

Deno.test("buildSamples lays out lags, calendar and targets", () => {
  const window = { lookback: 4, horizon: 2 };
  const n = 4 + 2 + MIN_SAMPLES - 1 + 3;
  const set = buildSamples(hourly(n, (i) => i), window);
  assert.equal(set.count, n - 4 - 2 + 1);
  assert.equal(set.features, 4 + 9);
  const unscale = (v: number) => Math.round(v * set.scaling.std + set.scaling.mean);
  // Sample k: inputs are hours k..k+3, targets hours k+4..k+5.
  const k = 7;
  const row = [...set.inputs.slice(k * 13, k * 13 + 4)].map(unscale);
  assert.deepEqual(row, [7, 8, 9, 10]);
  assert.deepEqual([...set.targets.slice(k * 2, k * 2 + 2)].map(unscale), [
    11,
    12,
  ]);
});

Deno.test("buildSamples skips windows that touch a missing hour", () => {
  const window = { lookback: 4, horizon: 2 };
  const full = buildSamples(hourly(200, (i) => i % 24), window);
  const series = hourly(200, (i) => i % 24);
  series.timestamps.splice(100, 1);
  series.values.splice(100, 1);
  const gappy = buildSamples(series, window);
  assert.equal(
    full.count - gappy.count,
    6,
    "the 6 windows covering hour 100 are dropped",
  );
});

Deno.test("buildSamples refuses too short a series with a hint", () => {
  assert.throws(
    () => buildSamples(hourly(100, () => 1)),
    (e: unknown) =>
      e instanceof TrainingError && e.code === "not_enough_readings" &&
      /at least/.test(e.hint),
  );
});
