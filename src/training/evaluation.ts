/**
 * Judges a forecaster on held-out days: day-ahead forecasts from each day
 * start, against the actual readings, next to the baselines.
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
