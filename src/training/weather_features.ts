/**
 * Weather for a meter's model: the outdoor temperature of its site, turned
 * into a correction of the model's day-ahead forecast.
 *
 * Heating and cooling follow degree-hours against the building's own
 * balance points (chosen from its daily means: the temperatures below and
 * above which its use rises). The model's anchor is the mean of similar
 * recent days (`features.ts`), so what the weather adds is how the
 * forecast hours differ from those days: for each hour ahead, the
 * heating and cooling degree-hours of the hour and their difference from
 * the anchor days' same hour, the forecast day's and the last day's
 * difference, the day's mean heating degree-hours.
 *
 * The correction is linear: one small ridge regression for each issue hour
 * and hour ahead (`WEATHER_FEATURES` weights and a bias), fitted to what the
 * network without weather leaves. A model keeps its network as it is, so
 * where no temperature is known for the forecast hours it forecasts
 * without weather. Training keeps the correction only when it lowers the
 * validation error.
 *
 * @module
 */
import { HOUR_MS, type HourlyGrid, type ReadingSeries } from "../domain/series.ts";
import { ISSUE_HOURS, similarDayProfile } from "./features.ts";
import { fitRidge, predictRidge } from "./ridge.ts";

/** Weather inputs per hour ahead. */
export const WEATHER_FEATURES = 7;
/** Temperature gaps up to this many hours are filled by linear interpolation. */
export const MAX_INTERPOLATED_HOURS = 3;
/** Degree-hours are divided by this before fitting (keeps the inputs near unit scale). */
const DEGREE_SCALE = 10;
/** Heating balance points tried, °C. */
const HEATING_BALANCE = [8, 10, 12, 13, 14, 15, 16, 17, 18, 20];
/** Cooling balance points tried, °C. */
const COOLING_BALANCE = [14, 16, 18, 20, 22, 24, 26];

/** A fitted weather correction, as the model's metadata keeps it. */
export interface WeatherModel {
  /** Below this outdoor temperature (°C) the building heats. */
  heating_balance_c: number;
  /** Above this one it cools. */
  cooling_balance_c: number;
  /**
   * For each issue hour, for each hour ahead: `WEATHER_FEATURES` weights
   * then a bias, giving the standardised correction.
   */
  heads: number[][][];
}

/** The site's temperatures on a meter's hourly grid: `length` hours from `start`, NaN where unknown. */
export function temperatureGrid(
  start: number,
  length: number,
  temperatures: ReadingSeries | null,
): Float64Array {
  const out = new Float64Array(length).fill(NaN);
  if (!temperatures) return out;
  temperatures.timestamps.forEach((t, i) => {
    const at = Math.round((t - start) / HOUR_MS);
    if (at >= 0 && at < length) out[at] = temperatures.values[i];
  });
  // Short gaps (a missed observation) are filled between their neighbours.
  let last = -1;
  for (let i = 0; i < length; i++) {
    if (!Number.isFinite(out[i])) continue;
    const gap = i - last - 1;
    if (last >= 0 && gap > 0 && gap <= MAX_INTERPOLATED_HOURS) {
      for (let j = 1; j <= gap; j++) {
        out[last + j] = out[last] + (out[i] - out[last]) * j / (gap + 1);
      }
    }
    last = i;
  }
  return out;
}

/** Share of the hours `[from, to)` with a known temperature. */
export function temperatureCoverage(temps: Float64Array, from: number, to: number): number {
  let known = 0;
  for (let i = Math.max(0, from); i < Math.min(to, temps.length); i++) {
    if (Number.isFinite(temps[i])) known++;
  }
  return to > from ? known / (to - from) : 0;
}

/**
 * The building's balance points: the pair whose daily heating and cooling
 * degree-hours best explain its daily mean use (least squares) over the
 * complete days before `before`.
 */
export function balancePoints(
  grid: HourlyGrid,
  temps: Float64Array,
  before: number,
): { heating: number; cooling: number } {
  const days: { load: number; t: number[] }[] = [];
  const firstHour = new Date(grid.start).getUTCHours();
  for (let s = (24 - firstHour) % 24; s + 24 <= before; s += 24) {
    let load = 0;
    const t: number[] = [];
    for (let k = 0; k < 24; k++) {
      load += grid.values[s + k];
      t.push(temps[s + k]);
    }
    if (Number.isFinite(load) && t.every(Number.isFinite)) days.push({ load: load / 24, t });
  }
  let best = { heating: 15, cooling: 22, sse: Infinity };
  for (const heating of HEATING_BALANCE) {
    for (const cooling of COOLING_BALANCE) {
      if (cooling < heating) continue;
      const rows = days.map((d) => [
        d.t.reduce((a, v) => a + Math.max(0, heating - v), 0) / 24,
        d.t.reduce((a, v) => a + Math.max(0, v - cooling), 0) / 24,
      ]);
      const sse = leastSquaresError(rows, days.map((d) => d.load));
      if (sse < best.sse) best = { heating, cooling, sse };
    }
  }
  return { heating: best.heating, cooling: best.cooling };
}

/** Residual sum of squares of `y ~ a + b·x₀ + c·x₁` (a tiny ridge keeps it solvable). */
function leastSquaresError(x: number[][], y: number[]): number {
  const n = y.length;
  if (n < 3) return Infinity;
  const flatX = new Float32Array(n * 2), flatY = new Float32Array(y);
  x.forEach((row, i) => flatX.set(row, i * 2));
  const fit = fitRidge(flatX, flatY, n, 2, 1, 0);
  const pred = predictRidge(fit, flatX, n);
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (y[i] - pred[i]) ** 2;
  return sse;
}

/** Heating and cooling degree-hours of each hour of a temperature grid, scaled. */
export interface DegreeHours {
  /** The temperatures they come from, °C (NaN where unknown). */
  temps: Float64Array;
  /** The balance points they are counted from, °C. */
  balance: { heating: number; cooling: number };
  heat: Float64Array;
  cool: Float64Array;
}

/** The degree-hours of `temps` against the balance points. */
export function degreeHours(
  temps: Float64Array,
  balance: { heating: number; cooling: number },
): DegreeHours {
  return {
    temps,
    balance,
    heat: temps.map((t) => Math.max(0, balance.heating - t) / DEGREE_SCALE),
    cool: temps.map((t) => Math.max(0, t - balance.cooling) / DEGREE_SCALE),
  };
}

/**
 * The weather inputs of a forecast issued at `origin`: `horizon ×
 * WEATHER_FEATURES`, or null when a forecast hour, an hour of the day
 * before or the anchor days' hours have no temperature.
 */
export function weatherInputs(
  grid: HourlyGrid,
  degrees: DegreeHours,
  origin: number,
  horizon: number,
): Float32Array | null {
  const { temps, heat, cool } = degrees;
  if (origin < 24 || origin + horizon > temps.length) return null;
  for (let i = origin - 24; i < origin + horizon; i++) if (!Number.isFinite(temps[i])) return null;
  const heatAnchor = similarDayProfile(grid, origin, horizon, heat);
  const coolAnchor = similarDayProfile(grid, origin, horizon, cool);
  if (!heatAnchor || !coolAnchor) return null;
  let day = 0, dayAnchor = 0, recent = 0;
  for (let k = 0; k < horizon; k++) {
    day += heat[origin + k] / horizon;
    dayAnchor += heatAnchor[k] / horizon;
  }
  for (let i = origin - 24; i < origin; i++) recent += heat[i] / 24;
  const out = new Float32Array(horizon * WEATHER_FEATURES);
  for (let k = 0; k < horizon; k++) {
    const h = heat[origin + k], c = cool[origin + k];
    out.set(
      [h, h - heatAnchor[k], c, c - coolAnchor[k], day, day - dayAnchor, recent - dayAnchor],
      k * WEATHER_FEATURES,
    );
  }
  return out;
}

/** Weather inputs and what the network without weather left, for some forecasts. */
export interface WeatherSamples {
  /** `count × horizon × WEATHER_FEATURES`. */
  inputs: Float32Array;
  /** `count × horizon`: the standardised targets less the network's output. */
  residuals: Float32Array;
  /** Issue hour of each. */
  hours: Uint8Array;
  count: number;
}

/**
 * Fits the correction: for each issue hour and hour ahead, a ridge
 * regression of the residual on that hour's weather inputs (the penalty
 * chosen on the latest `validationShare` of its samples).
 */
export function fitWeather(
  samples: WeatherSamples,
  horizon: number,
  balance: { heating: number; cooling: number },
  validationShare: number,
): WeatherModel {
  const F = WEATHER_FEATURES;
  const heads = Array.from({ length: ISSUE_HOURS }, (_, hour) => {
    const rows: number[] = [];
    for (let i = 0; i < samples.count; i++) if (samples.hours[i] === hour) rows.push(i);
    return Array.from({ length: horizon }, (_, k) => {
      if (rows.length < 2 * F) return new Array(F + 1).fill(0);
      const x = new Float32Array(rows.length * F), y = new Float32Array(rows.length);
      rows.forEach((r, j) => {
        const at = (r * horizon + k) * F;
        x.set(samples.inputs.subarray(at, at + F), j * F);
        y[j] = samples.residuals[r * horizon + k];
      });
      const fit = fitRidge(x, y, rows.length, F, 1, validationShare);
      return [...Array.from(fit.weights, round), round(fit.bias[0])];
    });
  });
  return { heating_balance_c: balance.heating, cooling_balance_c: balance.cooling, heads };
}

/** The standardised correction of one forecast (add it to the network's output). */
export function weatherCorrection(
  model: WeatherModel,
  inputs: Float32Array,
  issueHour: number,
  horizon: number,
): Float64Array {
  const F = WEATHER_FEATURES;
  const out = new Float64Array(horizon);
  const heads = model.heads[issueHour];
  for (let k = 0; k < horizon; k++) {
    const w = heads[k];
    let v = w[F];
    for (let j = 0; j < F; j++) v += w[j] * inputs[k * F + j];
    out[k] = v;
  }
  return out;
}

/**
 * The correction of each day a forecast rolls, where its hours have
 * temperature: `degreesFor` gives the degree-hours on the grid being rolled
 * (the same start), at least `length` hours of it.
 */
export function dayCorrection(
  model: WeatherModel,
  horizon: number,
  degreesFor: (grid: HourlyGrid, length: number) => DegreeHours,
): (grid: HourlyGrid, origin: number, issueHour: number) => Float64Array | null {
  return (grid, origin, issueHour) => {
    const inputs = weatherInputs(grid, degreesFor(grid, origin + horizon), origin, horizon);
    return inputs ? weatherCorrection(model, inputs, issueHour, horizon) : null;
  };
}

/** Mean squared residual of `samples` `[from, to)`, with or without `model`'s correction. */
export function weatherLoss(
  samples: WeatherSamples,
  from: number,
  to: number,
  horizon: number,
  model: WeatherModel | null,
): number {
  let sum = 0, n = 0;
  for (let i = from; i < to; i++) {
    const f = samples.inputs.subarray(
      i * horizon * WEATHER_FEATURES,
      (i + 1) * horizon * WEATHER_FEATURES,
    );
    const c = model ? weatherCorrection(model, f, samples.hours[i], horizon) : null;
    for (let k = 0; k < horizon; k++) {
      sum += (samples.residuals[i * horizon + k] - (c ? c[k] : 0)) ** 2;
      n++;
    }
  }
  return n ? sum / n : NaN;
}

/** Seven significant digits: enough for a weight, and a smaller model document. */
function round(value: number): number {
  return Number(value.toPrecision(7));
}
