/**
 * Forecasts past the model's first day, recursively: each further day is
 * the model's forecast from the grid extended with the days it forecast
 * before (anchored on similar days among them). The forecaster serves
 * week-ahead forecasts this way, and training scores them by day ahead on
 * the holdout, so what training reports is what a forecast does.
 *
 * Many origins are rolled at once, one batched prediction per day ahead.
 * Each origin works on its own copy of the grid's tail: the hours a
 * forecast can read (the similar-day search and the lookback) before it,
 * and the days it forecasts after it.
 *
 * @module
 */
import { HOUR_MS, type HourlyGrid } from "../domain/series.ts";
import {
  fromModelOutput,
  originFeatures,
  RECENT_HOURS,
  type Scaling,
  SIMILAR_SEARCH_DAYS,
  type WindowSpec,
} from "./features.ts";

/**
 * The model's standardised outputs for `rows` forecasts: `inputs` is
 * `rows × features`, `hours` their issue hours; `rows × horizon` values.
 */
export type Predict = (inputs: Float32Array, hours: number[], rows: number) => ArrayLike<number>;

/**
 * A correction added to one day's standardised outputs (the weather's, see
 * `weather_features.ts`), given the grid being rolled, the day's first
 * index on it and its issue hour; null where there is none.
 */
export type DayCorrection = (
  grid: HourlyGrid,
  origin: number,
  issueHour: number,
) => ArrayLike<number> | null;

/**
 * Forecasts `steps(origin)` days (of `window.horizon` hours) from each of
 * `origins` on `grid`, using only the values before each origin. A
 * forecast's values are at least zero. Where the features of a later day
 * cannot be read, an origin's forecast stops at the days before it; null
 * when not even its first day can be forecast (too few readings before it).
 * With `correct`, each day's outputs get its correction where it has one.
 */
export function rollForecasts(
  grid: HourlyGrid,
  scaling: Scaling,
  window: WindowSpec,
  origins: readonly number[],
  steps: (origin: number) => number,
  predict: Predict,
  correct?: DayCorrection,
): (Float64Array | null)[] {
  const day = window.horizon;
  const context = (SIMILAR_SEARCH_DAYS + 2) * 24 + Math.max(window.lookback, RECENT_HOURS);
  const rolls = origins.map((origin) => {
    const from = Math.max(0, origin - context);
    const count = Math.max(0, steps(origin));
    const values = new Float64Array(origin - from + count * day).fill(NaN);
    values.set(grid.values.subarray(from, origin));
    return {
      grid: { start: grid.start + from * HOUR_MS, values, nonWorking: grid.nonWorking },
      at: origin - from,
      count,
      done: 0,
    };
  });
  const most = Math.max(0, ...rolls.map((r) => r.count));
  for (let s = 0; s < most; s++) {
    const batch = [];
    for (const roll of rolls) {
      if (roll.done < s || s >= roll.count) continue;
      const f = originFeatures(roll.grid, scaling, window, roll.at + s * day);
      if (f) batch.push({ roll, f });
    }
    if (!batch.length) continue;
    const features = batch[0].f.inputs.length;
    const inputs = new Float32Array(batch.length * features);
    batch.forEach(({ f }, i) => inputs.set(f.inputs, i * features));
    const out = predict(inputs, batch.map(({ f }) => f.issueHour), batch.length);
    batch.forEach(({ roll, f }, i) => {
      const z = Array.prototype.slice.call(out, i * day, (i + 1) * day) as number[];
      const at = roll.at + s * day;
      const c = correct?.(roll.grid, at, f.issueHour);
      if (c) { for (let k = 0; k < day; k++) z[k] += c[k]; }
      const values = fromModelOutput(z, f.anchor, scaling);
      for (let k = 0; k < day; k++) roll.grid.values[at + k] = Math.max(0, values[k]);
      roll.done = s + 1;
    });
  }
  return rolls.map((r) => r.done ? r.grid.values.subarray(r.at, r.at + r.done * day) : null);
}
