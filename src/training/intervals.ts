/**
 * Prediction intervals, calibrated on the holdout: for each hour ahead, the
 * 10% and 90% quantiles of the forecast errors training measured there,
 * scaled by the forecast's level (an error of 5 kWh means more at night
 * than at noon, and a heating meter's errors grow with its winter load).
 * An error is `(actual − forecast) / max(forecast, floor)`, the floor a
 * share of the meter's mean so that near-zero forecasts still get a width.
 * Errors of the neighbouring hours ahead are pooled with each hour's, to
 * steady the quantiles; hours ahead the holdout did not reach take those
 * of the same hour a day earlier.
 *
 * The quantiles are taken about the median error: the interval keeps the
 * errors' spread and skew but not the holdout's bias. A holdout's bias is
 * that of its own weeks (a December with its holidays, an October warmer
 * than the winter that follows); carried forward it shifted the intervals
 * of the weeks after it off their values: on `bench/data`, electricity
 * intervals calibrated on December covered January at about 60–70%,
 * centred about 80%.
 *
 * @module
 */

/** The quantiles an interval spans: 10% and 90%, so 80% of actual values should fall inside. */
export const INTERVAL_QUANTILES = { low: 0.1, high: 0.9 } as const;
/** The level floor, as a share of the meter's mean reading. */
export const LEVEL_FLOOR_SHARE = 0.2;
/** Hours ahead pooled on each side of an hour when taking its quantiles. */
export const POOLED_HOURS = 1;
/** Fewest errors an hour ahead needs for quantiles of its own. */
export const MIN_ERRORS = 24;

/**
 * How much wider intervals are made when the week before a forecast had to
 * be estimated (`quality: degraded`): `1 + DEGRADED_WIDENING × √share`,
 * `share` the estimated part of the hours the model reads. The calibration
 * assumes complete inputs; measured on `bench/data` (see `BENCHMARKS.md`),
 * day-ahead coverage of the 10–90% intervals fell from 84% to 73% with the
 * last 24 hours missing and to 69% with 72, as if errors had spread by
 * about 1.16 and 1.27 (normal errors): this one constant fits both.
 */
export const DEGRADED_WIDENING = 0.42;

/** The widening of a forecast's intervals for `estimated` of `needed` input hours estimated. */
export function degradedWidening(estimated: number, needed: number): number {
  return needed > 0 ? 1 + DEGRADED_WIDENING * Math.sqrt(Math.min(1, estimated / needed)) : 1;
}

/** Calibrated intervals, as stored in a model's metadata. */
export interface PredictionIntervals {
  /** The quantiles `low` and `high` stand for. */
  quantiles: { low: number; high: number };
  /** Errors are scaled by `max(forecast, level_floor)`, in the meter's unit. */
  level_floor: number;
  /** Per hour ahead: the low quantile of the scaled errors. */
  low: number[];
  /** Per hour ahead: the high quantile of the scaled errors. */
  high: number[];
  /** Forecasts whose errors were used (origins on the holdout). */
  forecasts: number;
}

/** One forecast and what happened: `actual` may be NaN where there was no reading. */
export interface ForecastOutcome {
  forecast: ArrayLike<number>;
  actual: ArrayLike<number>;
}

/** The `q` quantile (0–1) of sorted values, interpolated linearly. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (!sorted.length) return NaN;
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at), hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/**
 * Calibrates intervals for `horizon` hours ahead from forecasts scored on
 * the holdout; `meanLevel` is the meter's mean reading. Null when the first
 * day ahead has too few errors to calibrate on.
 */
export function calibrateIntervals(
  outcomes: readonly ForecastOutcome[],
  horizon: number,
  meanLevel: number,
): PredictionIntervals | null {
  const floor = Math.max(LEVEL_FLOOR_SHARE * Math.abs(meanLevel), 1e-9);
  const errors: number[][] = Array.from({ length: horizon }, () => []);
  for (const { forecast, actual } of outcomes) {
    const hours = Math.min(horizon, forecast.length, actual.length);
    for (let k = 0; k < hours; k++) {
      const f = forecast[k], a = actual[k];
      if (Number.isFinite(f) && Number.isFinite(a)) errors[k].push((a - f) / Math.max(f, floor));
    }
  }
  const low: number[] = [], high: number[] = [];
  for (let k = 0; k < horizon; k++) {
    if (errors[k].length < MIN_ERRORS) {
      if (k < 24) return null;
      low.push(low[k - 24]);
      high.push(high[k - 24]);
      continue;
    }
    const pooled: number[] = [];
    for (let j = Math.max(0, k - POOLED_HOURS); j <= Math.min(horizon - 1, k + POOLED_HOURS); j++) {
      if (errors[j].length >= MIN_ERRORS) pooled.push(...errors[j]);
    }
    pooled.sort((a, b) => a - b);
    const median = quantile(pooled, 0.5);
    low.push(quantile(pooled, INTERVAL_QUANTILES.low) - median);
    high.push(quantile(pooled, INTERVAL_QUANTILES.high) - median);
  }
  return {
    quantiles: { ...INTERVAL_QUANTILES },
    level_floor: floor,
    low,
    high,
    forecasts: outcomes.length,
  };
}

/**
 * The interval around a forecast `value` `hoursAhead` hours ahead (from 0):
 * never below zero, and always containing the value itself. Past the
 * calibrated hours, those of the same hour on the last calibrated day.
 */
export function intervalAt(
  intervals: PredictionIntervals,
  hoursAhead: number,
  value: number,
  widened = 1,
): { low: number; high: number } {
  let k = hoursAhead;
  const days = intervals.low.length;
  while (k >= days) k -= Math.min(24, days);
  const scale = Math.max(value, intervals.level_floor) * widened;
  return {
    low: Math.max(0, Math.min(value, value + intervals.low[k] * scale)),
    high: Math.max(value, value + intervals.high[k] * scale),
  };
}
