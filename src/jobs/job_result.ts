/**
 * What a finished training says: the `SAVING_MODEL` message and the
 * `SUCCESS` report with its result, formatted from the training outcome.
 *
 * @module
 */
import type { TrainingJob } from "../domain/task.ts";
import type { TaskChange } from "../tracker/tracker.ts";
import type { Evaluation } from "../training/evaluation.ts";
import type { TrainOutcome } from "../training/train.ts";
import { roundTo } from "../util/round.ts";

/** Seconds spent in the stages the result reports. */
export interface StageTimings {
  fetchSeconds: number;
  trainingSeconds: number;
}

/** The message while the model is saved: its holdout error beside the baseline's. */
export function savingMessage(evaluation: Evaluation): string {
  return `Saving model (holdout CV(RMSE) ${pct(evaluation.model.cv_rmse)}; persistence ensemble ${
    pct(evaluation.persistence_ensemble.cv_rmse)
  })`;
}

/** The `SUCCESS` report of a job whose model was saved at `path`. */
export function successChange(
  job: TrainingJob,
  outcome: TrainOutcome,
  path: string,
  timings: StageTimings,
): TaskChange {
  const { evaluation, model, weather } = outcome;
  const withWeather = weather.used && weather.validation
    ? `; it corrects for the temperature at site "${weather.site_id}" (validation error ${
      pct(weather.validation.gain)
    } lower)`
    : "";
  const message = evaluation.served === "model"
    ? `Model trained and saved at ${path}${withWeather}`
    : `Model trained and saved at ${path}, but it does not beat the persistence ensemble on the holdout (CV(RMSE) ${
      pct(evaluation.model.cv_rmse)
    } vs ${pct(evaluation.persistence_ensemble.cv_rmse)}): forecasts use the persistence ensemble`;
  return {
    status: "SUCCESS",
    message,
    metrics: { ...model.metadata.metrics, evaluation },
    result: {
      status: "success",
      message,
      details: {
        meter_id: job.meter_id,
        meter_type: job.meter_type,
        data_points: outcome.dataPoints,
        model_path: path,
        training_completed: new Date().toISOString(),
        data_fetch_time_seconds: roundTo(timings.fetchSeconds, 3),
        training_time_seconds: roundTo(timings.trainingSeconds, 3),
        samples: outcome.samples,
        unusual_working_days_left_out: outcome.unusualWorkingDays,
        calendar_non_working_days: outcome.calendarNonWorkingDays,
        epochs: model.metadata.metrics.epoch,
        final_loss: model.metadata.metrics.loss,
        final_val_loss: model.metadata.metrics.val_loss,
        backend: model.metadata.backend,
        served: evaluation.served,
        metrics: evaluation,
        ashrae_guideline_14: evaluation.ashrae_guideline_14,
        accuracy_by_day_ahead: evaluation.by_day_ahead ?? [],
        cleaning: outcome.cleaning,
        weather: outcome.weather,
        deep_path: outcome.deepPath,
      },
    },
  };
}

function pct(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}
