import assert from "node:assert/strict";
import {
  buildSamples,
  complete,
  featureCount,
  fromModelOutput,
  issueHourOneHot,
  originFeatures,
  RECENT_HOURS,
  scalingOf,
  SIMILAR_DAY_DECAY,
  similarDayProfile,
  sliceSamples,
  unusualWorkingDays,
} from "./features.ts";
import { HOUR_MS, toHourlyGrid } from "../domain/series.ts";

const MONDAY = Date.UTC(2024, 0, 1); // 2024-01-01 was a Monday
const window = { lookback: 24, horizon: 24 };

function grid(values: number[], start = MONDAY) {
  return toHourlyGrid({ timestamps: values.map((_, i) => start + i * HOUR_MS), values });
}

/** Working days at 100 + hour, weekends at 10 + hour. */
function office(days: number, start = MONDAY): number[] {
  return Array.from({ length: days * 24 }, (_, i) => {
    const weekday = new Date(start + i * HOUR_MS).getUTCDay();
    return (weekday === 0 || weekday === 6 ? 10 : 100) + (i % 24);
  });
}

Deno.test("scalingOf ignores NaN; complete spots gaps", () => {
  assert.deepEqual(scalingOf([1, 3, NaN]), { mean: 2, std: 1 });
  assert.ok(complete([1, 2, 3], 0, 3));
  assert.ok(!complete([1, NaN, 3], 0, 3));
  assert.ok(!complete([1, 2], -1, 2));
});

Deno.test("the similar-day profile takes the same hours of the same kind of day", () => {
  const values = office(14);
  // Monday of week 2 (day 7), forecast from its midnight: the working-day profile.
  assert.deepEqual([...similarDayProfile(grid(values), 7 * 24, 24)!], values.slice(0, 24));
  // Saturday of week 2 (day 12): the weekend profile.
  assert.deepEqual(
    [...similarDayProfile(grid(values), 12 * 24, 24)!],
    values.slice(5 * 24, 6 * 24),
  );
  // Issued at 18:00 on a Friday (day 11): six working-day hours, then Saturday's.
  const friday6pm = similarDayProfile(grid(values), 11 * 24 + 18, 24)!;
  assert.deepEqual([...friday6pm.slice(0, 6)], [118, 119, 120, 121, 122, 123]);
  assert.deepEqual([...friday6pm.slice(6)], values.slice(5 * 24, 5 * 24 + 18));
});

Deno.test("the latest similar days weigh most in the profile", () => {
  const values = office(14);
  for (let i = 8 * 24; i < 9 * 24; i++) values[i] += 20; // Tuesday of week 2, higher
  const profile = similarDayProfile(grid(values), 9 * 24, 24)!; // Wednesday
  // Tuesday weighs 1; the 6 working days of the fortnight before it SIMILAR_DAY_DECAY, its square, …
  const weights = Array.from({ length: 7 }, (_, n) => SIMILAR_DAY_DECAY ** n);
  const expected = 20 / weights.reduce((a, b) => a + b);
  profile.forEach((v, k) => assert.ok(Math.abs(v - (100 + k + expected)) < 1e-9, `${k}: ${v}`));
  assert.ok(expected > 20 / 7, "more than an equal share");
});

Deno.test("a working day that looks like a holiday is not taken as similar", () => {
  const values = office(14);
  values.fill(15, 10 * 24, 11 * 24); // Thursday of week 2 closed, weekend-like
  const profile = similarDayProfile(grid(values), 11 * 24, 24)!; // Friday
  assert.deepEqual([...profile], values.slice(0, 24), "the closed Thursday is skipped");
});

Deno.test("features hold the last day, the anchor, the weekday; the issue hour is separate", () => {
  const values = office(14);
  const origin = 9 * 24 + 5; // Wednesday 05:00
  const f = originFeatures(grid(values), { mean: 0, std: 1 }, window, origin)!;
  assert.equal(f.inputs.length, featureCount(window));
  assert.deepEqual([...f.inputs.slice(0, RECENT_HOURS)], values.slice(origin - 24, origin));
  assert.deepEqual([...f.inputs.slice(RECENT_HOURS, RECENT_HOURS + 24)], [...f.anchor]);
  assert.deepEqual([...f.inputs.slice(RECENT_HOURS + 24)], [0, 0, 0, 1, 0, 0, 0], "Wednesday");
  assert.equal(f.issueHour, 5);
  assert.deepEqual([...issueHourOneHot([2]).slice(0, 4)], [0, 0, 1, 0]);
  assert.deepEqual([...fromModelOutput([1, -1], Float64Array.of(10, 10), { mean: 0, std: 2 })], [
    12,
    8,
  ]);
});

Deno.test("samples sit at every hour; targets are what the anchor misses, standardised", () => {
  const values = office(10).map((v, i) => v + (i % 48 === 0 ? 8 : 0));
  const scaling = { mean: 50, std: 4 };
  const set = buildSamples(grid(values), scaling, window, 0, values.length);
  const hours = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  assert.deepEqual(
    set.origins,
    [...hours(24, 97), ...hours(144, 217)],
    "every hour whose forecast day has a similar day before it: none for the first Saturday",
  );
  const i = set.origins.indexOf(7 * 24); // Monday midnight of week 2
  const f = originFeatures(grid(values), scaling, window, 7 * 24)!;
  for (let k = 0; k < 24; k++) {
    assert.equal(set.targets[i * 24 + k], Math.fround((values[7 * 24 + k] - f.anchor[k]) / 4));
  }
  assert.equal(set.hours[1], 1);
  assert.equal(set.issueHours[1 * 24 + 1], 1);
});

Deno.test("windows touching a gap are skipped", () => {
  const values = office(5);
  values[50] = NaN;
  const set = buildSamples(grid(values), { mean: 0, std: 1 }, window, 0, values.length);
  assert.ok(!set.origins.some((t) => t - 24 <= 50 && 50 < t + 24), "no window covers the gap");
  assert.ok(set.origins.includes(75) && set.origins.includes(26));
});

Deno.test("working days that look like holidays are found, weekends and usual days are not", () => {
  const values = office(42);
  values.fill(12, 16 * 24, 18 * 24); // Wednesday and Thursday of week 3 closed
  const unusual = unusualWorkingDays(grid(values));
  assert.deepEqual([...unusual], [16, 17]);
  const set = buildSamples(grid(values), { mean: 0, std: 1 }, window, 0, values.length, unusual);
  assert.ok(set.origins.length > 0);
  assert.ok(
    set.origins.every((t) => t + 23 < 16 * 24 || t >= 18 * 24),
    "no sample forecasts an hour of the closed days",
  );
  const flat = Array(24 * 42).fill(50);
  assert.equal(unusualWorkingDays(grid(flat)).size, 0, "no contrast: nothing is unusual");
});

Deno.test("a slice of the samples built to the end is the set built to the slice's end", () => {
  const values = office(21);
  const g = grid(values), scaling = { mean: 50, std: 4 };
  const all = buildSamples(g, scaling, window, 0, values.length);
  const to = 14 * 24;
  const prefix = buildSamples(g, scaling, window, 0, to);
  const end = all.origins.findIndex((t) => t + window.horizon > to);
  const slice = sliceSamples(all, 0, end);
  assert.equal(slice.count, prefix.count);
  assert.deepEqual(slice.origins, prefix.origins);
  assert.deepEqual([...slice.inputs], [...prefix.inputs]);
  assert.deepEqual([...slice.targets], [...prefix.targets]);
  assert.deepEqual([...slice.hours], [...prefix.hours]);
  assert.deepEqual([...slice.issueHours], [...prefix.issueHours]);
});
