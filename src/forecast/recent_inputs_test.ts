import assert from "node:assert/strict";
import { parseReadingsCsv } from "../meters/csv.ts";
import { cleanReadings } from "../meters/cleaning.ts";
import { completeRecent } from "./recent_inputs.ts";
import { dayNumber } from "../domain/calendar.ts";

const csv = await Deno.readTextFile(
  new URL("../meters/demo_data/electricity_ucam_b21_2019.csv", import.meta.url),
);
const series = parseReadingsCsv(csv).series;

/** The series with the hours `[from, to)` before its end removed. */
function withOutage(hoursFromEnd: number, hours: number) {
  const n = series.timestamps.length;
  const keep = (_: unknown, i: number) => i < n - hoursFromEnd || i >= n - hoursFromEnd + hours;
  return {
    timestamps: series.timestamps.filter(keep),
    values: series.values.filter(keep),
  };
}

Deno.test("a 72-hour outage in the last week is estimated from similar days: degraded, close to the truth", () => {
  const truth = cleanReadings(series, "electricity");
  const origin = truth.values.length;
  const full = completeRecent(truth, origin, 168);
  assert.ok(full.ok);
  assert.equal(full.report.quality, "good");

  const cut = cleanReadings(withOutage(100, 72), "electricity");
  const result = completeRecent(cut, origin, 168);
  assert.ok(result.ok);
  assert.equal(result.report.hours_needed, 168);
  assert.equal(result.report.hours_estimated, 72 + full.report.hours_estimated);
  assert.equal(result.report.quality, "degraded");
  // The estimate follows the real readings it replaced.
  let err = 0, level = 0;
  for (let i = origin - 100; i < origin - 28; i++) {
    err += Math.abs(result.grid.values[i] - truth.values[i]);
    level += truth.values[i];
  }
  assert.ok(err / level < 0.25, `relative error ${err / level}`);
  for (let i = origin - 168; i < origin; i++) assert.ok(Number.isFinite(result.grid.values[i]));
});

Deno.test("under 2 of the last 7 days of readings: refused, naming the missing runs", () => {
  const cut = cleanReadings(withOutage(130, 125), "electricity");
  const origin = cut.values.length;
  const result = completeRecent(cut, origin, 168);
  assert.ok(!result.ok);
  assert.equal(result.known, 168 - 125);
  assert.equal(result.missing.length, 1);
  assert.equal(result.missing[0].hours, 125);
  assert.equal(
    result.missing[0].from,
    new Date(series.timestamps[series.timestamps.length - 130]).toISOString(),
  );
});

Deno.test("a meter whose readings start inside the window is filled from its typical profile", () => {
  const n = series.timestamps.length;
  const short = cleanReadings(
    { timestamps: series.timestamps.slice(n - 100), values: series.values.slice(n - 100) },
    "electricity",
  );
  const result = completeRecent(short, short.values.length, 168);
  assert.ok(result.ok);
  assert.equal(result.grid.values.length, 168);
  assert.equal(result.report.hours_estimated, 68 + [...short.missing].reduce((a, b) => a + b, 0));
  assert.ok(result.grid.values.every((v) => Number.isFinite(v) && v > 0));
});

Deno.test("the typical profile takes a non-working weekday of the site's calendar as a Sunday", () => {
  // Six known days, Tuesday 2019-05-07 to Sunday 2019-05-12: 100 an hour on working days, 10 at
  // weekends. The week before the origin reaches one day further back, Monday 6 May (a bank
  // holiday in England and Wales), with no reading: only the typical profile can fill it.
  const start = Date.UTC(2019, 4, 7);
  const values = Float64Array.from({ length: 144 }, (_, i) => i < 96 ? 100 : 10);
  const grid = (nonWorking?: ReadonlySet<number>) => ({
    start,
    values,
    missing: new Uint8Array(144),
    nonWorking,
  });
  const holiday = dayNumber(Date.UTC(2019, 4, 6));
  const plain = completeRecent(grid(), 144, 168);
  const withCalendar = completeRecent(grid(new Set([holiday])), 144, 168);
  assert.ok(plain.ok && withCalendar.ok);
  assert.equal(withCalendar.grid.start, Date.UTC(2019, 4, 6));
  // Without the calendar no Monday is known: the mean of each hour over all six days.
  assert.deepEqual([...plain.grid.values.subarray(0, 24)], Array(24).fill((4 * 100 + 2 * 10) / 6));
  // With it, the holiday is filled as Sunday was.
  assert.deepEqual([...withCalendar.grid.values.subarray(0, 24)], Array(24).fill(10));
  assert.deepEqual([...withCalendar.grid.values.subarray(24)], [...values]);
});
