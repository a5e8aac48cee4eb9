import assert from "node:assert/strict";
import {
  calibrateIntervals,
  DEGRADED_WIDENING,
  degradedWidening,
  intervalAt,
  LEVEL_FLOOR_SHARE,
  quantile,
} from "./intervals.ts";

/** A repeatable spread of numbers in [0, 1), like Math.random (mulberry32). */
function spread(n: number, seed: number): number[] {
  let a = seed * 0x9e3779b9;
  return Array.from({ length: n }, () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  });
}

Deno.test("quantile interpolates between sorted values", () => {
  assert.equal(quantile([1, 2, 3, 4, 5], 0.5), 3);
  assert.equal(quantile([0, 10], 0.1), 1);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

Deno.test("intervals calibrated on holdout errors cover about 80% of fresh errors from the same spread", () => {
  // Forecasts of 100 whose actual values are 100 × (1 + e), e uniform in [−0.2, 0.4):
  // scaled errors with spread 0.6, skewed upwards.
  const outcomes = Array.from({ length: 400 }, (_, i) => ({
    forecast: new Float64Array(48).fill(100),
    actual: Float64Array.from(spread(48, i + 1), (u) => 100 * (1 + (-0.2 + 0.6 * u))),
  }));
  const intervals = calibrateIntervals(outcomes, 48, 100)!;
  assert.equal(intervals.low.length, 48);
  assert.equal(intervals.forecasts, 400);
  // Centred on the median error (0.1): 10% and 90% of the spread lie 0.24 either side.
  for (let k = 0; k < 48; k++) {
    assert.ok(Math.abs(intervals.low[k] + 0.24) < 0.03, `low ${intervals.low[k]}`);
    assert.ok(Math.abs(intervals.high[k] - 0.24) < 0.03, `high ${intervals.high[k]}`);
  }
  // Fresh errors of the same spread, about their own median, fall inside about 80% of the time.
  let inside = 0, total = 0;
  for (const u of spread(5000, 99)) {
    const actual = 100 * (1 + 0.6 * (u - 0.5)); // same spread, centred
    const { low, high } = intervalAt(intervals, 5, 100);
    total++;
    if (actual >= low && actual <= high) inside++;
  }
  assert.ok(inside / total > 0.75 && inside / total < 0.85, `coverage ${inside / total}`);
});

Deno.test("intervals scale with the forecast's level, down to the floor", () => {
  const outcomes = Array.from({ length: 100 }, (_, i) => ({
    forecast: new Float64Array(24).fill(50),
    actual: Float64Array.from(spread(24, i + 7), (u) => 50 * (0.8 + 0.4 * u)),
  }));
  const intervals = calibrateIntervals(outcomes, 24, 100)!;
  assert.equal(intervals.level_floor, LEVEL_FLOOR_SHARE * 100);
  const at = (v: number) => {
    const { low, high } = intervalAt(intervals, 3, v);
    return high - low;
  };
  assert.ok(Math.abs(at(200) - 2 * at(100)) < 1e-9, "twice the level, twice the width");
  assert.ok(Math.abs(at(5) - at(10)) < 1e-9, "below the floor, the floor's width");
  assert.ok(at(5) > 0);
  // Widened for estimated inputs: each side moves out by the factor.
  const plain = intervalAt(intervals, 3, 100), wide = intervalAt(intervals, 3, 100, 1.5);
  assert.ok(Math.abs((100 - wide.low) - 1.5 * (100 - plain.low)) < 1e-9);
  assert.ok(Math.abs((wide.high - 100) - 1.5 * (plain.high - 100)) < 1e-9);
});

Deno.test("intervals widen with the share of the inputs estimated, from 1 with none", () => {
  assert.equal(degradedWidening(0, 168), 1);
  assert.ok(
    Math.abs(degradedWidening(24, 168) - (1 + DEGRADED_WIDENING * Math.sqrt(24 / 168))) < 1e-12,
  );
  assert.ok(degradedWidening(72, 168) > degradedWidening(24, 168));
  assert.equal(degradedWidening(500, 168), 1 + DEGRADED_WIDENING, "at most everything estimated");
});

Deno.test("an interval is never below zero and always contains its value", () => {
  const intervals = {
    quantiles: { low: 0.1, high: 0.9 },
    level_floor: 1,
    low: new Array(24).fill(-3),
    high: new Array(24).fill(-0.5), // a forecast too high everywhere
  } as const;
  const { low, high } = intervalAt(
    { ...intervals, low: [...intervals.low], high: [...intervals.high], forecasts: 1 },
    2,
    10,
  );
  assert.equal(low, 0);
  assert.equal(high, 10);
});

Deno.test("hours ahead the holdout did not reach take the same hour a day earlier; too few errors on day one give none", () => {
  const outcomes = Array.from({ length: 60 }, (_, i) => ({
    forecast: new Float64Array(i < 30 ? 48 : 24).fill(10),
    actual: Float64Array.from(
      { length: i < 30 ? 48 : 24 },
      (_, k) => 10 + (k < 24 ? 1 : 3) * ((i % 5) - 2),
    ),
  }));
  const intervals = calibrateIntervals(outcomes, 72, 10)!;
  assert.equal(intervals.high.length, 72);
  assert.ok(intervals.high[30] > intervals.high[6], "day two errors are wider here");
  assert.deepEqual(
    intervals.high.slice(48),
    intervals.high.slice(24, 48),
    "day three copies day two",
  );
  assert.deepEqual(intervalAt(intervals, 100, 10), intervalAt(intervals, 52, 10));

  const few = outcomes.slice(0, 10);
  assert.equal(calibrateIntervals(few, 24, 10), null);
});
