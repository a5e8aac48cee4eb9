/**
 * The naive day-ahead forecasts a model must beat, on a meter's hourly grid
 * (NaN where missing). Forecasting the `horizon` hours from `origin`, with
 * readings known up to `origin − 1`:
 * - previous day: the same hour a day earlier;
 * - previous week: the same hour a week earlier;
 * - persistence ensemble: the mean of the same hour over the previous 7 days
 *   (the baseline BuildingsBench reports most single-building models fail to beat).
 *
 * @module
 */

/** The baselines, by name. */
export const BASELINES = ["persistence_ensemble", "previous_day", "previous_week"] as const;

/** A baseline's name. */
export type Baseline = typeof BASELINES[number];

/** Forecasts `horizon` hours from `origin` with a baseline; NaN where it has no data. */
export function baselineForecast(
  values: ArrayLike<number>,
  origin: number,
  horizon: number,
  baseline: Baseline,
): Float64Array {
  const out = new Float64Array(horizon);
  for (let k = 0; k < horizon; k++) {
    const t = origin + k;
    // Same hour d days back, from the most recent day known at the origin.
    const back = (d: number) => {
      const i = t - 24 * d;
      return i >= 0 && i < origin ? values[i] : NaN;
    };
    const first = Math.ceil((k + 1) / 24); // days back to reach known data
    if (baseline === "previous_day") out[k] = back(first);
    else if (baseline === "previous_week") out[k] = back(Math.max(7, first));
    else {
      let sum = 0, n = 0;
      for (let d = first; d < first + 7; d++) {
        const v = back(d);
        if (Number.isFinite(v)) {
          sum += v;
          n++;
        }
      }
      out[k] = n ? sum / n : NaN;
    }
  }
  return out;
}
