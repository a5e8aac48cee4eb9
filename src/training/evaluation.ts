/**
 * Judges a forecaster on held-out days: day-ahead forecasts from each hour
 * of the holdout, against the actual readings, next to the baselines; and
 * week-ahead forecasts scored by day ahead, to say how accuracy falls with
 * the horizon.
 *
 * @module
 */
import { type Baseline, baselineForecast, BASELINES } from "./baselines.ts";
import { type Accuracy, accuracy, ashraeCompliance } from "./metrics.ts";

/** How a trained model did on the holdout, and what is served. */
export interface Evaluation {
  holdout: { from: string; to: string; forecasts: number; hours: number };
  model: Accuracy;
  /** The model's linear path alone: its closed-form ridge heads, without the deep path. */
  ridge: Accuracy;
  persistence_ensemble: Accuracy;
  previous_day: Accuracy;
  previous_week: Accuracy;
  /** Model CV(RMSE) over the persistence ensemble's (below 1 is better). */
  ratio_to_persistence: number;
  beats_persistence: boolean;
  /** What forecasts use: the model, or the persistence ensemble when the model does not beat it. */
  served: "model" | "persistence_ensemble";
  /** ASHRAE Guideline 14 (hourly) for what is served. */
  ashrae_guideline_14: ReturnType<typeof ashraeCompliance>;
  /**
   * Accuracy by day ahead (1 to 7) of week-ahead forecasts from the
   * holdout's hours, recursive past the first day as forecasts are; absent
   * from models trained before it was measured.
   */
  by_day_ahead?: DayAheadAccuracy[];
}

/** How forecasts did on one day ahead. */
export interface DayAheadAccuracy {
  /** 1 for the first 24 hours ahead, 2 for the next, … */
  day: number;
  /** Forecasts scored: the holdout's origins whose day ahead it covers. */
  forecasts: number;
  model: Accuracy;
  persistence_ensemble: Accuracy;
  /** Model CV(RMSE) over the persistence ensemble's on that day ahead. */
  ratio_to_persistence: number;
}

/**
 * Scores forecasts by day ahead: `forecast(origin)` is the model's forecast
 * from `origin` (24 hours a day, as many days as it has), scored against
 * `values` next to the persistence ensemble's forecast of the same hours.
 */
export function accuracyByDayAhead(
  values: Float64Array,
  origins: readonly number[],
  forecast: (origin: number) => ArrayLike<number> | null,
  days: number,
): DayAheadAccuracy[] {
  const out: DayAheadAccuracy[] = [];
  const persistence = new Map<number, Float64Array>();
  for (let d = 1; d <= days; d++) {
    const actual: number[] = [], model: number[] = [], base: number[] = [];
    let forecasts = 0;
    for (const origin of origins) {
      const f = forecast(origin);
      if (!f || f.length < d * 24 || origin + d * 24 > values.length) continue;
      let p = persistence.get(origin);
      if (!p) {
        p = baselineForecast(values, origin, days * 24, "persistence_ensemble");
        persistence.set(origin, p);
      }
      forecasts++;
      for (let k = (d - 1) * 24; k < d * 24; k++) {
        actual.push(values[origin + k]);
        model.push(f[k]);
        base.push(p[k]);
      }
    }
    if (!forecasts) break;
    const m = accuracy(actual, model), b = accuracy(actual, base);
    out.push({
      day: d,
      forecasts,
      model: m,
      persistence_ensemble: b,
      ratio_to_persistence: m.cv_rmse / b.cv_rmse,
    });
  }
  return out;
}

/** Forecasts from each origin with each forecaster and scores them on the actual values. */
export function evaluate(
  values: Float64Array,
  origins: number[],
  horizon: number,
  model: (origin: number) => ArrayLike<number>,
  ridge: (origin: number) => ArrayLike<number>,
  startMs: number,
): Evaluation {
  const actual: number[] = [];
  const forecasts: Record<"model" | "ridge" | Baseline, number[]> = {
    model: [],
    ridge: [],
    persistence_ensemble: [],
    previous_day: [],
    previous_week: [],
  };
  for (const origin of origins) {
    const m = model(origin), r = ridge(origin);
    const base = Object.fromEntries(
      BASELINES.map((b) => [b, baselineForecast(values, origin, horizon, b)]),
    ) as Record<Baseline, Float64Array>;
    for (let k = 0; k < horizon; k++) {
      actual.push(values[origin + k]);
      forecasts.model.push(m[k]);
      forecasts.ridge.push(r[k]);
      for (const b of BASELINES) forecasts[b].push(base[b][k]);
    }
  }
  const score = (f: number[]) => accuracy(actual, f);
  const modelAccuracy = score(forecasts.model);
  const persistence = score(forecasts.persistence_ensemble);
  const ratio = modelAccuracy.cv_rmse / persistence.cv_rmse;
  const beats = ratio < 1;
  const hour = 3_600_000;
  return {
    holdout: {
      from: new Date(startMs + origins[0] * hour).toISOString(),
      to: new Date(startMs + (origins.at(-1)! + horizon - 1) * hour).toISOString(),
      forecasts: origins.length,
      hours: modelAccuracy.n,
    },
    model: modelAccuracy,
    ridge: score(forecasts.ridge),
    persistence_ensemble: persistence,
    previous_day: score(forecasts.previous_day),
    previous_week: score(forecasts.previous_week),
    ratio_to_persistence: ratio,
    beats_persistence: beats,
    served: beats ? "model" : "persistence_ensemble",
    ashrae_guideline_14: ashraeCompliance(beats ? modelAccuracy : persistence),
  };
}
