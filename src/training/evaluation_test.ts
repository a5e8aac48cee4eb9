import assert from "node:assert/strict";
import { evaluate } from "./evaluation.ts";

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
