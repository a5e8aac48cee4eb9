import assert from "node:assert/strict";
import { HOUR_MS } from "../domain/series.ts";
import {
  balancePoints,
  degreeHours,
  fitWeather,
  temperatureCoverage,
  temperatureGrid,
  WEATHER_FEATURES,
  weatherCorrection,
  weatherInputs,
  weatherLoss,
  type WeatherSamples,
} from "./weather_features.ts";

const start = Date.UTC(2019, 0, 7); // a Monday

Deno.test("temperatures land on the meter's grid; short gaps are interpolated, long ones left", () => {
  const stamps = [0, 1, 4, 5, 12].map((h) => start + h * HOUR_MS);
  const temps = temperatureGrid(start, 14, { timestamps: stamps, values: [0, 1, 4, 5, 12] });
  assert.deepEqual(Array.from(temps.subarray(0, 6)), [0, 1, 2, 3, 4, 5], "a 2-hour gap is filled");
  assert.ok(temps.subarray(6, 12).every(Number.isNaN), "a 6-hour gap is not");
  assert.equal(temps[12], 12);
  assert.ok(Number.isNaN(temps[13]));
  assert.equal(temperatureCoverage(temps, 0, 14), 7 / 14);
});

Deno.test("the balance point is the one the building's use follows", () => {
  // 120 days: use rises 2 kWh per degree below 13 °C, outdoor temperatures from −2 to 22 °C.
  const days = 120, n = days * 24;
  const t = Array.from({ length: n }, (_, i) => 10 + 12 * Math.sin(i / 24 / 9) + 2 * Math.sin(i));
  const values = Float64Array.from(t, (v) => 5 + 2 * Math.max(0, 13 - v));
  const balance = balancePoints({ start, values }, Float64Array.from(t), n);
  assert.equal(balance.heating, 13);
});

Deno.test("the correction learns how much a colder day than the anchor days adds, and only that", () => {
  // Use follows temperature; a residual of 0.3 per scaled degree-hour below the anchor days'.
  const days = 90, n = days * 24, horizon = 24;
  const t = Float64Array.from(
    { length: n },
    (_, i) => 8 + 6 * Math.sin(i / 24 / 3.3) + Math.sin(i),
  );
  const grid = { start, values: Float64Array.from(t, (v) => 10 + Math.max(0, 15 - v)) };
  const degrees = degreeHours(t, { heating: 15, cooling: 25 });
  const F = WEATHER_FEATURES;
  const rows: { inputs: Float32Array; hour: number }[] = [];
  for (let origin = 24 * 30; origin + horizon <= n; origin++) {
    const inputs = weatherInputs(grid, degrees, origin, horizon);
    if (inputs) rows.push({ inputs, hour: origin % 24 });
  }
  const samples: WeatherSamples = {
    inputs: new Float32Array(rows.length * horizon * F),
    residuals: new Float32Array(rows.length * horizon),
    hours: Uint8Array.from(rows, (r) => r.hour),
    count: rows.length,
  };
  rows.forEach((r, i) => {
    samples.inputs.set(r.inputs, i * horizon * F);
    for (let k = 0; k < horizon; k++) {
      samples.residuals[i * horizon + k] = 0.3 * r.inputs[k * F + 1]; // Δ heating degree-hours
    }
  });
  const model = fitWeather(samples, horizon, degrees.balance, 0.15);
  assert.ok(
    weatherLoss(samples, 0, samples.count, horizon, model) <
      0.05 * weatherLoss(samples, 0, samples.count, horizon, null),
    "the correction explains what the temperature explains",
  );
  const colder = new Float32Array(horizon * F);
  for (let k = 0; k < horizon; k++) colder[k * F + 1] = 1;
  const c = weatherCorrection(model, colder, rows[0].hour, horizon);
  assert.ok(c.every((v) => Math.abs(v - 0.3) < 0.1), `about 0.3 each hour: ${c.slice(0, 3)}`);
  assert.equal(
    weatherInputs(grid, degreeHours(t.subarray(0, n - 1), degrees.balance), n - 24, 24),
    null,
    "an hour without temperature: no inputs",
  );
});
