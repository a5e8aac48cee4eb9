import assert from "node:assert/strict";
import { baselineForecast } from "./baselines.ts";

// Hour i of a series whose value encodes its day and hour: 100·day + hour.
const values = Array.from({ length: 24 * 10 }, (_, i) => 100 * Math.floor(i / 24) + (i % 24));
const origin = 24 * 8; // forecasting day 8 from its midnight

Deno.test("previous day and previous week take the same hour back", () => {
  const day = baselineForecast(values, origin, 24, "previous_day");
  const week = baselineForecast(values, origin, 24, "previous_week");
  assert.equal(day[0], 700);
  assert.equal(day[23], 723);
  assert.equal(week[5], 105);
});

Deno.test("the persistence ensemble is the mean of the same hour over the previous 7 days", () => {
  const f = baselineForecast(values, origin, 24, "persistence_ensemble");
  // days 1..7 at hour 3: (103 + 203 + … + 703) / 7 = 403
  assert.equal(f[3], 403);
});

Deno.test("baselines never use data from the forecast window, and skip missing hours", () => {
  const gappy = [...values];
  gappy[24 * 7 + 3] = NaN; // yesterday's hour 3 is missing
  const f = baselineForecast(gappy, origin, 24, "persistence_ensemble");
  assert.equal(f[3], (103 + 203 + 303 + 403 + 503 + 603) / 6);
  assert.ok(Number.isNaN(baselineForecast(gappy, origin, 24, "previous_day")[3]));
  // A 48-hour horizon reaches 2 days back for its second day.
  const long = baselineForecast(values, origin, 48, "previous_day");
  assert.equal(long[30], 706);
});
