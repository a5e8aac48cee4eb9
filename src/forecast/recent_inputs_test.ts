import assert from "node:assert/strict";
import { parseReadingsCsv } from "../meters/csv.ts";
import { cleanReadings } from "../meters/cleaning.ts";
import { completeRecent } from "./recent_inputs.ts";

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
