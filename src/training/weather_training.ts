/**
 * Weather in training: decides whether a meter's site temperature can be
 * used (it must cover the training period), fits the weather correction
 * (`weather_features.ts`) to what the network without weather leaves, keeps
 * it only when it lowers the validation error, and reports what it gained.
 *
 * @module
 */
import { HOUR_MS, type HourlyGrid, type ReadingSeries } from "../domain/series.ts";
import type { SiteCalendar } from "../domain/calendar.ts";
import type { DayCorrection } from "./rolling.ts";
import type { Evaluation } from "./evaluation.ts";
import type { SampleSet } from "./features.ts";
import {
  balancePoints,
  dayCorrection,
  type DegreeHours,
  degreeHours,
  fitWeather,
  temperatureCoverage,
  temperatureGrid,
  WEATHER_FEATURES,
  weatherInputs,
  weatherLoss,
  type WeatherModel,
  type WeatherSamples,
} from "./weather_features.ts";
import { roundTo } from "../util/round.ts";

/** Share of the training hours that must have a temperature for weather to be tried. */
export const MIN_TEMPERATURE_COVERAGE = 0.9;
/** Weather is kept when it lowers the validation error by at least this share. */
export const MIN_WEATHER_GAIN = 0.01;

/** The outdoor temperature of a meter's site, as training receives it. */
export interface SiteWeather {
  site_id: string;
  /** Hourly °C, ordered by time. */
  temperature: ReadingSeries;
}

/**
 * Readings, and from the meter's site when it is linked to one: its
 * temperature, and its working calendar when it has one.
 */
export type TrainingSeries = ReadingSeries & { weather?: SiteWeather; calendar?: SiteCalendar };

/** What training says about weather. */
export interface WeatherReport {
  /** Whether the model served corrects its forecasts with the temperature. */
  used: boolean;
  /** Why, in words. */
  reason: string;
  site_id: string | null;
  /** Share of the training hours with a temperature. */
  coverage?: number;
  heating_balance_c?: number;
  cooling_balance_c?: number;
  /** Mean squared standardised error on validation samples, without and with weather. */
  validation?: { method: string; without: number; with: number; gain: number };
  /** On the holdout: CV(RMSE) and ratio to the persistence ensemble without and with weather. */
  holdout?: {
    cv_rmse_without: number;
    cv_rmse_with: number;
    ratio_to_persistence_without: number;
    ratio_to_persistence_with: number;
  };
}

/** Weather ready for training, or the report of why it is not used. */
export type WeatherPlan =
  | { ok: true; site_id: string; degrees: DegreeHours; coverage: number }
  | { ok: false; report: WeatherReport };

/** Whether the meter's site temperature covers the training hours `[0, trainEnd)` of `grid`. */
export function planWeather(
  grid: HourlyGrid,
  weather: SiteWeather | undefined,
  trainEnd: number,
): WeatherPlan {
  if (!weather) {
    return {
      ok: false,
      report: {
        used: false,
        reason: "The meter is not linked to a site with temperatures.",
        site_id: null,
      },
    };
  }
  const temps = temperatureGrid(grid.start, grid.values.length, weather.temperature);
  const coverage = temperatureCoverage(temps, 0, trainEnd);
  if (coverage < MIN_TEMPERATURE_COVERAGE) {
    return {
      ok: false,
      report: {
        used: false,
        reason: `Site "${weather.site_id}" has temperatures for ${
          (coverage * 100).toFixed(0)
        }% of the training hours; weather is tried from ${
          MIN_TEMPERATURE_COVERAGE * 100
        }%. Upload its temperatures for the whole period (POST /sites/${weather.site_id}/weather) and train again.`,
        site_id: weather.site_id,
        coverage: roundTo(coverage, 3),
      },
    };
  }
  const balance = balancePoints(grid, temps, trainEnd);
  return { ok: true, site_id: weather.site_id, degrees: degreeHours(temps, balance), coverage };
}

/**
 * The weather samples of forecasts from `origins`: their inputs and the
 * residual of the network (`outputs`, standardised) against `targets`.
 * Origins without temperature are left out.
 */
export function weatherSamples(
  grid: HourlyGrid,
  degrees: DegreeHours,
  horizon: number,
  origins: readonly number[],
  hours: ArrayLike<number>,
  targets: ArrayLike<number>,
  outputs: ArrayLike<number>,
): WeatherSamples {
  const rows: { inputs: Float32Array; i: number }[] = [];
  origins.forEach((origin, i) => {
    const inputs = weatherInputs(grid, degrees, origin, horizon);
    if (inputs) rows.push({ inputs, i });
  });
  const F = WEATHER_FEATURES;
  const out: WeatherSamples = {
    inputs: new Float32Array(rows.length * horizon * F),
    residuals: new Float32Array(rows.length * horizon),
    hours: new Uint8Array(rows.length),
    count: rows.length,
  };
  rows.forEach(({ inputs, i }, j) => {
    out.inputs.set(inputs, j * horizon * F);
    out.hours[j] = hours[i];
    for (let k = 0; k < horizon; k++) {
      out.residuals[j * horizon + k] = targets[i * horizon + k] - outputs[i * horizon + k];
    }
  });
  return out;
}

/** Blocks of consecutive samples the correction is judged on, one at a time. */
export const WEATHER_FOLDS = 5;

/**
 * Judges the correction by blocked cross-validation over the training
 * samples: each of `WEATHER_FOLDS` consecutive blocks is predicted by a
 * correction fitted on the others, so every season counts (a holdout of
 * the latest weeks alone says nothing of heating when it falls in summer).
 * Returns the correction fitted on all samples when it lowers the error by
 * at least `MIN_WEATHER_GAIN`, and the numbers either way.
 */
export function judgeWeather(
  samples: WeatherSamples,
  horizon: number,
  degrees: DegreeHours,
  validationShare: number,
): { model: WeatherModel | null; validation: NonNullable<WeatherReport["validation"]> } {
  const F = WEATHER_FEATURES;
  let without = 0, withWeather = 0, n = 0;
  for (let fold = 0; fold < WEATHER_FOLDS; fold++) {
    const from = Math.floor((samples.count * fold) / WEATHER_FOLDS);
    const to = Math.floor((samples.count * (fold + 1)) / WEATHER_FOLDS);
    const keep = (i: number) => i < from || i >= to;
    const rows = Array.from({ length: samples.count }, (_, i) => i).filter(keep);
    const fitting: WeatherSamples = {
      inputs: new Float32Array(rows.length * horizon * F),
      residuals: new Float32Array(rows.length * horizon),
      hours: new Uint8Array(rows.length),
      count: rows.length,
    };
    rows.forEach((r, j) => {
      fitting.inputs.set(
        samples.inputs.subarray(r * horizon * F, (r + 1) * horizon * F),
        j * horizon * F,
      );
      fitting.residuals.set(
        samples.residuals.subarray(r * horizon, (r + 1) * horizon),
        j * horizon,
      );
      fitting.hours[j] = samples.hours[r];
    });
    const model = fitWeather(fitting, horizon, degrees.balance, validationShare);
    const count = (to - from) * horizon;
    without += weatherLoss(samples, from, to, horizon, null) * count;
    withWeather += weatherLoss(samples, from, to, horizon, model) * count;
    n += count;
  }
  without /= n;
  withWeather /= n;
  const gain = 1 - withWeather / without;
  return {
    model: gain >= MIN_WEATHER_GAIN
      ? fitWeather(samples, horizon, degrees.balance, validationShare)
      : null,
    validation: {
      method: `${WEATHER_FOLDS}-fold blocked cross-validation over the training samples`,
      without: roundTo(without, 5),
      with: roundTo(withWeather, 5),
      gain: roundTo(gain, 4),
    },
  };
}

/** Refits the correction on every sample, with the balance points of `degrees`. */
export function refitWeather(
  samples: WeatherSamples,
  horizon: number,
  degrees: DegreeHours,
  validationShare: number,
): WeatherModel {
  return fitWeather(samples, horizon, degrees.balance, validationShare);
}

/** What the weather stage of training needs. */
export interface WeatherStageInput {
  grid: HourlyGrid;
  weather: SiteWeather | undefined;
  /** The holdout's first hour: temperatures must cover the hours before it. */
  trainEnd: number;
  horizon: number;
  validationShare: number;
  /** The training samples (before the holdout), and the network's outputs for them. */
  set: SampleSet;
  setOutputs: ArrayLike<number>;
}

/** The weather stage's results, as training goes on. */
export interface WeatherStage {
  /** The correction of forecasts rolled on the training grid (or its copies); null without weather. */
  correct: DayCorrection | null;
  /** Records the holdout evaluations without and with weather in the report. */
  judged(without: Evaluation, withWeather: Evaluation): void;
  /** The correction refit on every sample (for the model served), or null when weather is not used. */
  refit(all: SampleSet, outputs: ArrayLike<number>): WeatherModel | null;
  report: WeatherReport;
}

/**
 * Plans, fits and judges the weather correction for a network trained
 * without weather; without usable temperatures, a stage that changes nothing.
 */
export function fitWeatherStage(input: WeatherStageInput): WeatherStage {
  const { grid, horizon, validationShare, set } = input;
  const plan = planWeather(grid, input.weather, input.trainEnd);
  const unchanged = (report: WeatherReport): WeatherStage => ({
    correct: null,
    judged: () => {},
    refit: () => null,
    report,
  });
  if (!plan.ok) return unchanged(plan.report);
  const { degrees } = plan;
  const base = {
    site_id: plan.site_id,
    coverage: roundTo(plan.coverage, 3),
    heating_balance_c: degrees.balance.heating,
    cooling_balance_c: degrees.balance.cooling,
  };
  const samples = weatherSamples(
    grid,
    degrees,
    horizon,
    set.origins,
    set.hours,
    set.targets,
    input.setOutputs,
  );
  const judged = judgeWeather(samples, horizon, degrees, validationShare);
  if (!judged.model) {
    return unchanged({
      used: false,
      reason: `Weather did not lower the validation error by ${MIN_WEATHER_GAIN * 100}% or more (${
        (judged.validation.gain * 100).toFixed(1)
      }%): the model forecasts without it.`,
      ...base,
      validation: judged.validation,
    });
  }
  const report: WeatherReport = {
    used: true,
    reason: `Weather lowered the validation error by ${
      (judged.validation.gain * 100).toFixed(1)
    }%: forecasts use the site's temperature for the forecast hours when it is known.`,
    ...base,
    validation: judged.validation,
  };
  // Rolled forecasts work on copies of the grid's tail: the same hours, a later start.
  const degreesFor = (g: HourlyGrid): DegreeHours => {
    const offset = Math.round((g.start - grid.start) / HOUR_MS);
    return {
      balance: degrees.balance,
      temps: degrees.temps.subarray(offset),
      heat: degrees.heat.subarray(offset),
      cool: degrees.cool.subarray(offset),
    };
  };
  return {
    correct: dayCorrection(judged.model, horizon, degreesFor),
    judged(without, withIt) {
      report.holdout = {
        cv_rmse_without: roundTo(without.model.cv_rmse, 4),
        cv_rmse_with: roundTo(withIt.model.cv_rmse, 4),
        ratio_to_persistence_without: roundTo(without.ratio_to_persistence, 4),
        ratio_to_persistence_with: roundTo(withIt.ratio_to_persistence, 4),
      };
    },
    refit(all, outputs) {
      const every = weatherSamples(
        grid,
        degrees,
        horizon,
        all.origins,
        all.hours,
        all.targets,
        outputs,
      );
      return refitWeather(every, horizon, degrees, validationShare);
    },
    report,
  };
}
