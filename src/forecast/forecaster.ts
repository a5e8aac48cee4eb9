/**
 * Day-ahead forecasts from a meter's latest readings: loads the meter's
 * model from the broker (cached per process, reloaded when a newer one is
 * trained), or uses the persistence ensemble where the model did not beat
 * it on its holdout.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type Broker, hourOffset } from "../broker/broker.ts";
import { cleanReadings } from "../meters/cleaning.ts";
import type { LoadedArtifacts, ModelStore } from "../models/model_store.ts";
import { meterKey, type MeterRef, type MeterType } from "../domain/meter.ts";
import { useFastestBackend } from "../training/backend.ts";
import { baselineForecast } from "../training/baselines.ts";
import { issueHourOneHot } from "../training/features.ts";
import { predictRows } from "../training/model.ts";
import { degradedWidening, intervalAt, type PredictionIntervals } from "../training/intervals.ts";
import { rollForecasts } from "../training/rolling.ts";
import { HOUR_MS, type HourlyGrid, type ReadingSeries, seriesSince } from "../domain/series.ts";
import type { Gap } from "../meters/summary.ts";
import { completeRecent, type InputsReport, MIN_KNOWN_SHARE } from "./recent_inputs.ts";
import { type ForecastWeather, weatherContext, type WeatherCorrector } from "./forecast_weather.ts";
import { calendarContext, type ForecastCalendar } from "./forecast_calendar.ts";
import { roundTo } from "../util/round.ts";

/**
 * Hours before the lookback window that are cleaned with it: about a year,
 * so the cleaning policy's thresholds (a spike is judged against the
 * meter's own range) come out as they did in training, while the grid stays
 * bounded however long ago the first reading was.
 */
const CLEANING_CONTEXT_HOURS = 400 * 24;
import { MODEL_FORMAT, type SavedModel } from "../training/train.ts";

/** A forecast as the API answers it. */
export interface Forecast {
  meter_id: string;
  meter_type: MeterType;
  generated_at: string;
  model: {
    trained_at: string;
    served: "model" | "persistence_ensemble";
    metrics: unknown;
  };
  /** The first hour forecast: `from`, or the hour after the latest reading. */
  origin: string;
  horizon: number;
  /** How complete the readings before the origin were. */
  inputs: InputsReport;
  /** How hours past the model's first day were forecast; null when there are none. */
  beyond_first_day: string | null;
  /** Whether the site's temperature corrected the forecast (weather-aware models), or why not. */
  weather: ForecastWeather;
  /** Which forecast days the site's calendar makes non-working days. */
  calendar: ForecastCalendar;
  /** What each point's `low` and `high` are; null when the model has no intervals. */
  intervals: IntervalsReport;
  points: ForecastPoint[];
}

/** One hour of a forecast. */
export interface ForecastPoint {
  timestamp: string;
  value: number;
  /** The 10% quantile: the actual value should be below it one hour in ten. */
  low?: number;
  /** The 90% quantile: the actual value should be above it one hour in ten. */
  high?: number;
}

/** How a forecast's intervals were made, or why it has none. */
export type IntervalsReport =
  | {
    quantiles: { low: number; high: number };
    calibrated_on: string;
    /** How much wider than calibrated, for inputs estimated (1 when complete). */
    widened: number;
  }
  | { quantiles: null; reason: string };

/** Why a forecast cannot be made. */
export class ForecastError extends Error {
  /** Creates the error; `details` go into the error answer as they are. */
  constructor(
    readonly status: 404 | 409 | 422,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

interface Cached {
  trainedAt: string;
  model: tf.LayersModel;
  metadata: SavedModel["metadata"];
}

/** Makes forecasts; one per process. */
export interface Forecaster {
  /**
   * Forecasts `horizon` hours from `from` (epoch ms, an hour on the meter's
   * grid) with the readings before it; from the hour after the latest
   * reading when `from` is not given.
   */
  forecast(meter: MeterRef, horizon: number, from?: number): Promise<Forecast>;
  /** Releases loaded models. */
  close(): void;
}

/** Creates a forecaster on the broker's readings and models. */
export function createForecaster(deps: { broker: Broker; models: ModelStore }): Forecaster {
  const cache = new Map<string, Cached>();

  async function modelFor(meter: MeterRef, trainedAt: string): Promise<Cached> {
    const key = meterKey(meter);
    const cached = cache.get(key);
    if (cached?.trainedAt === trainedAt) return cached;
    const artifacts: LoadedArtifacts | null = await deps.models.load(meter);
    if (!artifacts) throw noModel(meter);
    if (artifacts.json.userDefinedMetadata?.format !== MODEL_FORMAT) throw outdated(meter);
    await useFastestBackend();
    const model = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: artifacts.json.modelTopology as tf.io.ModelJSON["modelTopology"],
      weightSpecs: artifacts.json.weightsManifest[0].weights,
      weightData: artifacts.weights.slice().buffer,
    }));
    cached?.model.dispose();
    const fresh = { trainedAt, model, metadata: artifacts.json.userDefinedMetadata };
    cache.set(key, fresh);
    return fresh;
  }

  const inFlight = new Map<string, Promise<Forecast>>();

  async function compute(meter: MeterRef, horizon: number, from?: number): Promise<Forecast> {
    const trainedAt = await deps.broker.modelTrainedAt(meter);
    if (!trainedAt) throw noModel(meter);
    const [loaded, stored] = await Promise.all([
      modelFor(meter, trainedAt),
      deps.broker.getReadings(meter),
    ]);
    const { metadata } = loaded;
    const { lookback } = metadata.window;
    if (!stored || !stored.timestamps.length) throw noReadings(meter, lookback);
    const first = stored.timestamps[0];
    const latest = stored.timestamps[stored.timestamps.length - 1];
    if (from !== undefined) checkFrom(meter, from, first, latest);
    const originTime = from ?? latest + HOUR_MS;
    // Only readings before the origin, and only the latest year or so of
    // them: a grid of the whole span would grow with it (a meter with
    // readings from 2000 and today is 200,000 hours).
    const series = seriesSince(
      seriesBefore(stored, originTime),
      originTime - (lookback + CLEANING_CONTEXT_HOURS) * HOUR_MS,
    );
    const siteId = await deps.broker.weather.meterSite(meter);
    const day = metadata.window.horizon;
    // The site's calendar and temperature, read at once.
    const [calendar, weather] = await Promise.all([
      calendarContext(
        deps.broker,
        siteId,
        series.timestamps[0] ?? originTime,
        originTime,
        horizon,
        // Whole days from the origin, and one more for a roll from an outage's start (bridgeOutage).
        (Math.ceil(horizon / day) + 1) * day,
      ),
      weatherContext(deps.broker, meter, siteId, metadata.weather, originTime, horizon),
    ]);
    const clean = { ...cleanReadings(series, meter.meter_type), nonWorking: calendar.nonWorking };
    const origin = Math.round((originTime - clean.start) / HOUR_MS);
    const recent = completeRecent(clean, origin, lookback);
    if (!recent.ok) throw tooFew(meter, lookback, recent.known, recent.missing, originTime);
    const { grid } = recent;
    const at = origin + Math.round((clean.start - grid.start) / HOUR_MS);

    let served = metadata.evaluation?.served ?? "model";
    let values: ArrayLike<number> | null = null;
    const corrected = { hours: 0 };
    if (served === "model") {
      const filled = rollModel(loaded, grid, at, horizon, weather.corrector, corrected);
      const bridged = filled && bridgeOutage(loaded, clean, origin, horizon, weather.corrector);
      values = bridged ? Float64Array.from(filled!, (v, k) => (v + bridged[k]) / 2) : filled;
    }
    if (!values) {
      served = "persistence_ensemble";
      values = baselineForecast(grid.values, at, horizon, "persistence_ensemble");
    }
    const calibrated = metadata.intervals?.[served] ?? null;
    // Calibrated on complete inputs: wider when the week before had to be estimated.
    const widened = recent.report.quality === "degraded"
      ? degradedWidening(recent.report.hours_estimated, recent.report.hours_needed)
      : 1;
    return {
      meter_id: meter.meter_id,
      meter_type: meter.meter_type,
      generated_at: new Date().toISOString(),
      origin: new Date(originTime).toISOString(),
      model: { trained_at: trainedAt, served, metrics: metadata.evaluation ?? null },
      horizon,
      inputs: recent.report,
      weather: served === "model" ? weather.report(corrected.hours, horizon) : {
        ...weather.report(0, horizon),
        message:
          "Forecast by the persistence ensemble (the model did not beat it on its holdout), without weather.",
      },
      beyond_first_day: horizon <= day
        ? null
        : served === "model"
        ? `recursive: each further ${day} hours are the model's forecast from the hours it forecast before, anchored on similar days among them`
        : "persistence ensemble: the mean of the same hour over the 7 days before the origin",
      // The persistence ensemble reads no calendar: its answer must not claim days it did not follow.
      calendar: served === "model"
        ? calendar.report
        : { ...calendar.report, used: false, non_working_days: [] },
      intervals: intervalsReport(metadata.intervals === undefined, calibrated, served, widened),
      points: Array.from({ length: horizon }, (_, k) => {
        const value = Math.max(0, values[k]);
        const timestamp = new Date(originTime + k * HOUR_MS).toISOString();
        return calibrated ? { timestamp, value, ...intervalAt(calibrated, k, value, widened) } : {
          timestamp,
          value,
        };
      }),
    };
  }

  /**
   * When the hours just before the origin are missing (an outage running up
   * to it), the model's forecast from the outage's start, rolled across it:
   * measured on `bench/data`, this bridges a 72-hour outage with about half
   * the extra error of filling it from similar days. Null when there is no
   * such outage, or too little before it.
   */
  function bridgeOutage(
    loaded: Cached,
    clean: HourlyGrid & { missing: Uint8Array },
    origin: number,
    horizon: number,
    weather: WeatherCorrector | null,
  ): Float64Array | null {
    const { lookback } = loaded.metadata.window;
    let outage = 0;
    while (outage < lookback && !Number.isFinite(clean.values[origin - 1 - outage])) outage++;
    if (outage === 0 || outage >= lookback) return null;
    const before = completeRecent(clean, origin - outage, lookback);
    if (!before.ok) return null;
    const at = origin - outage + Math.round((clean.start - before.grid.start) / HOUR_MS);
    return rollModel(loaded, before.grid, at, outage + horizon, weather)?.subarray(outage) ?? null;
  }

  /**
   * The model's forecast of `horizon` hours from `origin`, a day at a time:
   * each day after the first is forecast from the grid extended with the
   * days forecast before it (see `rolling.ts`). Null when the model cannot
   * read the grid.
   * With `weather`, each day it can correct is corrected (counted in
   * `corrected.hours`, for the forecast hours).
   */
  function rollModel(
    loaded: Cached,
    grid: HourlyGrid,
    origin: number,
    horizon: number,
    weather: WeatherCorrector | null,
    corrected: { hours: number } = { hours: 0 },
  ): Float64Array | null {
    const { metadata } = loaded;
    const day = metadata.window.horizon;
    let step = 0;
    const correct = weather
      ? (g: HourlyGrid, at: number, issueHour: number) => {
        const c = weather(g, at, issueHour, day);
        if (c) corrected.hours += Math.min(day, horizon - step * day);
        step++;
        return c;
      }
      : undefined;
    const [rolled] = rollForecasts(
      grid,
      metadata.scaling,
      metadata.window,
      [origin],
      () => Math.ceil(horizon / metadata.window.horizon),
      (inputs, hours, rows) => predictRows(loaded.model, inputs, issueHourOneHot(hours), rows),
      correct,
    );
    return rolled && rolled.length >= horizon ? rolled.subarray(0, horizon) : null;
  }

  return {
    forecast(meter, horizon, from) {
      // Identical forecasts asked at once (a dashboard's viewers, a retrying
      // client) are made once: each costs a read, a cleaning and a prediction.
      const key = `${meterKey(meter)} ${horizon} ${from ?? "latest"}`;
      let pending = inFlight.get(key);
      if (!pending) {
        pending = compute(meter, horizon, from).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      return pending;
    },

    close() {
      for (const cached of cache.values()) cached.model.dispose();
      cache.clear();
    },
  };
}

/** What a forecast says about its intervals. */
function intervalsReport(
  untrained: boolean,
  calibrated: PredictionIntervals | null,
  served: "model" | "persistence_ensemble",
  widened: number,
): IntervalsReport {
  if (calibrated) {
    return {
      quantiles: calibrated.quantiles,
      calibrated_on: `the errors of ${calibrated.forecasts} forecasts by the ${
        served === "model" ? "model" : "persistence ensemble"
      } from the hours of its holdout, by hour ahead and scaled by the forecast's level`,
      widened: roundTo(widened, 3),
    };
  }
  return {
    quantiles: null,
    reason: untrained
      ? "The model was trained before prediction intervals were calibrated; train the meter again to get low and high."
      : "The holdout had too few forecasts to calibrate intervals on; upload more readings and train again.",
  };
}

function noModel(meter: MeterRef): ForecastError {
  return new ForecastError(
    404,
    "model_not_found",
    `${meter.meter_type} meter "${meter.meter_id}" has no trained model. Train one first: POST /trainmodel/ with {"meter_id": "${meter.meter_id}", "meter_type": "${meter.meter_type}"}.`,
  );
}

function tooFew(
  meter: MeterRef,
  needed: number,
  known: number,
  missing: Gap[],
  origin: number,
): ForecastError {
  const hours = needed - known;
  const runs = [...missing].sort((a, b) => b.hours - a.hours);
  const where = runs.slice(0, 3).map((g) => `${g.hours} h from ${g.from} to ${g.to}`).join(", ");
  return new ForecastError(
    422,
    "not_enough_recent_readings",
    `A forecast needs at least ${
      Math.ceil(MIN_KNOWN_SHARE * needed)
    } of the last ${needed} hours before ${
      new Date(origin).toISOString()
    } as readings (the rest is estimated); ${meter.meter_type} meter "${meter.meter_id}" has ${known}: ${hours} hours are missing (${where}${
      runs.length > 3 ? `, and ${runs.length - 3} more runs` : ""
    }). Upload the missing readings, or ask for a forecast from an earlier hour with ?from=.`,
    { hours_needed: needed, hours_missing: hours, missing: runs.slice(0, 20) },
  );
}

function noReadings(meter: MeterRef, needed: number): ForecastError {
  return new ForecastError(
    422,
    "not_enough_recent_readings",
    `A forecast needs the last ${needed} hours of readings; ${meter.meter_type} meter "${meter.meter_id}" has none stored. Upload them with POST /meters/${meter.meter_type}/${meter.meter_id}/readings.`,
    { hours_needed: needed, hours_missing: needed, missing: [] },
  );
}

/** A 422 naming `from` unless it is an hour on the meter's grid within its readings' span. */
function checkFrom(meter: MeterRef, from: number, first: number, latest: number): void {
  let problem: string | null = null;
  if (hourOffset(from) !== hourOffset(first)) {
    problem = `must be an hour on the meter's grid (its readings fall at minute ${
      hourOffset(first) / 60_000
    } of each hour)`;
  } else if (from <= first || from > latest + HOUR_MS) {
    problem = `must be after the first reading (${
      new Date(first).toISOString()
    }) and at most the hour after the latest (${new Date(latest + HOUR_MS).toISOString()})`;
  }
  if (!problem) return;
  throw new ForecastError(
    422,
    "validation_failed",
    `Invalid request: from ${problem} of ${meter.meter_type} meter "${meter.meter_id}".`,
    { fields: [{ field: "from", message: problem }] },
  );
}

/** The readings before `time` (epoch ms), by binary search. */
function seriesBefore(series: ReadingSeries, time: number): ReadingSeries {
  let lo = 0, hi = series.timestamps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (series.timestamps[mid] < time) lo = mid + 1;
    else hi = mid;
  }
  if (lo === series.timestamps.length) return series;
  return { timestamps: series.timestamps.slice(0, lo), values: series.values.slice(0, lo) };
}

function outdated(meter: MeterRef): ForecastError {
  return new ForecastError(
    409,
    "model_outdated",
    `The model of ${meter.meter_type} meter "${meter.meter_id}" was trained by an earlier version of Wattcast, whose models this version cannot read. Train it again: POST /trainmodel/ with {"meter_id": "${meter.meter_id}", "meter_type": "${meter.meter_type}"}.`,
  );
}
