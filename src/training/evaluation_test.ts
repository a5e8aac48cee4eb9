import assert from "node:assert/strict";
import { accuracyByDayAhead, evaluate } from "./evaluation.ts";

// 30 days of a daily profile with a weekly bump; the last days are held out.
const values = Float64Array.from(
  { length: 24 * 30 },
  (_, i) =>
    100 + 20 * Math.sin((2 * Math.PI * (i % 24)) / 24) + (Math.floor(i / 24) % 7 === 0 ? 15 : 0),
);
const origins = [24 * 25, 24 * 26, 24 * 27, 24 * 28];
const truth = (o: number) => values.subarray(o, o + 24);
const flat = () => new Float64Array(24).fill(100);

Deno.test("a perfect model beats the baselines, is served, and meets ASHRAE Guideline 14", () => {
  const e = evaluate(values, origins, 24, truth, flat, 0);
  assert.equal(e.model.cv_rmse, 0);
  assert.equal(e.holdout.forecasts, 4);
  assert.equal(e.holdout.hours, 96);
  assert.ok(e.persistence_ensemble.cv_rmse > 0);
  assert.equal(e.served, "model");
  assert.ok(e.beats_persistence);
  assert.ok(e.ashrae_guideline_14.compliant);
  assert.ok(e.ridge.cv_rmse > 0, "the reference is scored separately");
});

Deno.test("a model worse than the persistence ensemble is not served, and the result says so", () => {
  const e = evaluate(values, origins, 24, flat, flat, 0);
  assert.ok(e.ratio_to_persistence > 1);
  assert.equal(e.beats_persistence, false);
  assert.equal(e.served, "persistence_ensemble");
  assert.equal(
    e.ashrae_guideline_14.cv_rmse_ok,
    e.persistence_ensemble.cv_rmse <= 0.3,
    "compliance is judged on what is served",
  );
});

Deno.test("accuracy by day ahead scores each day of longer forecasts where the values reach", () => {
  // Forecasts exact on day one, 10 too high on day two, 20 on day three.
  const forecast = (o: number) =>
    Float64Array.from({ length: 72 }, (_, k) => (values[o + k] ?? NaN) + 10 * Math.floor(k / 24));
  const byDay = accuracyByDayAhead(values, [24 * 24, 24 * 25, 24 * 28], forecast, 7);
  assert.deepEqual(byDay.map((d) => d.day), [1, 2, 3], "no forecast reaches a fourth day");
  assert.deepEqual(byDay.map((d) => d.forecasts), [3, 3, 2], "the last origin has two days left");
  assert.equal(byDay[0].model.cv_rmse, 0);
  assert.ok(byDay[1].model.cv_rmse > 0 && byDay[2].model.cv_rmse > byDay[1].model.cv_rmse);
  for (const d of byDay) {
    assert.equal(d.ratio_to_persistence, d.model.cv_rmse / d.persistence_ensemble.cv_rmse);
    assert.equal(d.model.n, d.forecasts * 24);
  }
});
