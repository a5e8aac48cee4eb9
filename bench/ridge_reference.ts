/**
 * The linear reference of the accuracy benchmark, as the issue defines it:
 * a plain ridge regression fitted in closed form on one week of hourly lags
 * and the weekday (one-hot), one output per hour of the next day, fitted on
 * the forecasts made at each day start. The model has to beat it.
 *
 * @module
 */
import { complete, scalingOf } from "../src/training/features.ts";
import { HOUR_MS, type HourlyGrid } from "../src/domain/series.ts";
import { fitRidge, predictRidge, type RidgeModel } from "../src/training/ridge.ts";

const LAGS = 168;
const HORIZON = 24;
const FEATURES = LAGS + 7;

/** A fitted reference. */
export interface RidgeReference {
  ridge: RidgeModel;
  mean: number;
  std: number;
}

function write(grid: HourlyGrid, ref: Omit<RidgeReference, "ridge">, origin: number): Float32Array {
  const x = new Float32Array(FEATURES);
  for (let i = 0; i < LAGS; i++) x[i] = (grid.values[origin - LAGS + i] - ref.mean) / ref.std;
  x[LAGS + new Date(grid.start + origin * HOUR_MS).getUTCDay()] = 1;
  return x;
}

function startsOfDays(grid: HourlyGrid): number[] {
  const first = (24 - new Date(grid.start).getUTCHours()) % 24;
  const out = [];
  for (let t = first; t + HORIZON <= grid.values.length; t += 24) {
    if (t >= LAGS && complete(grid.values, t - LAGS, t + HORIZON)) out.push(t);
  }
  return out;
}

/** Fits the reference on every complete day start of `grid` (penalty chosen on the latest 15%). */
export function fitRidgeReference(grid: HourlyGrid): RidgeReference {
  const { mean, std } = scalingOf(grid.values);
  const origins = startsOfDays(grid);
  const x = new Float32Array(origins.length * FEATURES);
  const y = new Float32Array(origins.length * HORIZON);
  origins.forEach((t, i) => {
    x.set(write(grid, { mean, std }, t), i * FEATURES);
    for (let k = 0; k < HORIZON; k++) y[i * HORIZON + k] = (grid.values[t + k] - mean) / std;
  });
  return { ridge: fitRidge(x, y, origins.length, FEATURES, HORIZON, 0.15), mean, std };
}

/** The reference's 24 hours from `origin` (a day start), in the meter's unit. */
export function forecastRidgeReference(
  ref: RidgeReference,
  grid: HourlyGrid,
  origin: number,
): Float64Array {
  const z = predictRidge(ref.ridge, write(grid, ref, origin), 1);
  return Float64Array.from(z, (v) => v * ref.std + ref.mean);
}
