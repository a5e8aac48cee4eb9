import assert from "node:assert/strict";
import { fitRidgeReference, forecastRidgeReference } from "./ridge_reference.ts";

Deno.test("the ridge reference learns a weekly pattern from its lags and weekday", () => {
  const start = Date.UTC(2024, 0, 1);
  const values = Float64Array.from({ length: 24 * 70 }, (_, i) => {
    const day = Math.floor(i / 24) % 7;
    return (day >= 5 ? 20 : 60) + 10 * Math.sin((2 * Math.PI * (i % 24)) / 24);
  });
  const grid = { start, values };
  const ref = fitRidgeReference({ start, values: values.subarray(0, 24 * 63) });
  const forecast = forecastRidgeReference(ref, grid, 24 * 63); // a Monday after a weekend
  for (let k = 0; k < 24; k++) {
    assert.ok(Math.abs(forecast[k] - values[24 * 63 + k]) < 2, `hour ${k}: ${forecast[k]}`);
  }
});
