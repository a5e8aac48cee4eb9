import assert from "node:assert/strict";
import { accuracy, ashraeCompliance } from "./metrics.ts";

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} ≈ ${b}`);

Deno.test("metrics match values computed by hand", () => {
  // actual 10, 20, 30, 40 (mean 25); predicted 12, 18, 33, 40
  // errors a−p: −2, 2, −3, 0 → squared 4, 4, 9, 0 → MSE 17/4 → RMSE √4.25
  const m = accuracy([10, 20, 30, 40], [12, 18, 33, 40]);
  close(m.cv_rmse, Math.sqrt(4.25) / 25);
  close(m.nmbe, -3 / (4 * 25));
  close(m.mae, 7 / 4);
  assert.equal(m.n, 4);
});

Deno.test("missing values are left out of the comparison", () => {
  const m = accuracy([10, NaN, 30], [10, 5, NaN]);
  assert.equal(m.n, 1);
  assert.equal(m.mae, 0);
});

Deno.test("ASHRAE Guideline 14 hourly: CV(RMSE) ≤ 30% and |NMBE| ≤ 10%", () => {
  assert.deepEqual(ashraeCompliance({ cv_rmse: 0.3, nmbe: -0.1, mae: 1, n: 1 }), {
    cv_rmse_ok: true,
    nmbe_ok: true,
    compliant: true,
  });
  assert.equal(ashraeCompliance({ cv_rmse: 0.31, nmbe: 0, mae: 1, n: 1 }).compliant, false);
  assert.equal(ashraeCompliance({ cv_rmse: 0.1, nmbe: 0.11, mae: 1, n: 1 }).nmbe_ok, false);
});
