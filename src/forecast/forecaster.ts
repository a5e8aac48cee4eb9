/**
 * Day-ahead forecasts from a meter's latest readings: loads the meter's
 * model from the broker (cached per process, reloaded when a newer one is
 * trained), or uses the persistence ensemble where the model did not beat
 * it on its holdout.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Broker } from "../broker/broker.ts";
import { cleanReadings } from "../meters/cleaning.ts";
import type { LoadedArtifacts, ModelStore } from "../models/model_store.ts";
import { meterKey, type MeterRef, type MeterType } from "../domain/meter.ts";
import { useFastestBackend } from "../training/backend.ts";
import { baselineForecast } from "../training/baselines.ts";
import {
  complete,
  fromModelOutput,
  ISSUE_HOURS,
  issueHourOneHot,
  originFeatures,
} from "../training/features.ts";
import { HOUR_MS, seriesSince } from "../domain/series.ts";

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
  horizon: number;
  points: { timestamp: string; value: number }[];
}

/** Why a forecast cannot be made. */
export class ForecastError extends Error {
  /** Creates the error. */
  constructor(readonly status: 404 | 409 | 422, readonly code: string, message: string) {
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
  forecast(meter: MeterRef, horizon: number): Promise<Forecast>;
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

  async function compute(meter: MeterRef, horizon: number): Promise<Forecast> {
    const trainedAt = await deps.broker.modelTrainedAt(meter);
    if (!trainedAt) throw noModel(meter);
    const [loaded, series] = await Promise.all([
      modelFor(meter, trainedAt),
      deps.broker.getReadings(meter),
    ]);
    const { metadata } = loaded;
    const { lookback } = metadata.window;
    if (!series) throw tooFew(meter, lookback, 0);
    // Only the latest year or so: a grid of the whole span would grow with
    // it (a meter with readings from 2000 and today is 200,000 hours).
    const latest = series.timestamps[series.timestamps.length - 1];
    const recent = seriesSince(series, latest - (lookback + CLEANING_CONTEXT_HOURS) * HOUR_MS);
    const clean = cleanReadings(recent, meter.meter_type);
    const grid = { start: clean.start, values: clean.values };
    const origin = grid.values.length; // the hour after the latest reading
    if (!complete(grid.values, origin - lookback, origin)) {
      let recent = 0;
      while (recent < origin && Number.isFinite(grid.values[origin - 1 - recent])) recent++;
      throw tooFew(meter, lookback, recent);
    }
    let served = metadata.evaluation?.served ?? "model";
    let values: ArrayLike<number>;
    const features = served === "model"
      ? originFeatures(grid, metadata.scaling, metadata.window, origin)
      : null;
    if (features) {
      const { inputs, issueHour, anchor } = features;
      const z = tf.tidy(() =>
        (loaded.model.predict([
          tf.tensor2d(inputs, [1, inputs.length]),
          tf.tensor2d(issueHourOneHot([issueHour]), [1, ISSUE_HOURS]),
        ]) as tf.Tensor).dataSync()
      );
      values = fromModelOutput(z, anchor, metadata.scaling);
    } else {
      served = "persistence_ensemble";
      values = baselineForecast(
        grid.values,
        origin,
        metadata.window.horizon,
        "persistence_ensemble",
      );
    }
    return {
      meter_id: meter.meter_id,
      meter_type: meter.meter_type,
      generated_at: new Date().toISOString(),
      model: { trained_at: trainedAt, served, metrics: metadata.evaluation ?? null },
      horizon,
      points: Array.from({ length: horizon }, (_, k) => ({
        timestamp: new Date(grid.start + (origin + k) * HOUR_MS).toISOString(),
        value: Math.max(0, values[k]),
      })),
    };
  }

  return {
    forecast(meter, horizon) {
      // Identical forecasts asked at once (a dashboard's viewers, a retrying
      // client) are made once: each costs a read, a cleaning and a prediction.
      const key = `${meterKey(meter)} ${horizon}`;
      let pending = inFlight.get(key);
      if (!pending) {
        pending = compute(meter, horizon).finally(() => inFlight.delete(key));
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

function noModel(meter: MeterRef): ForecastError {
  return new ForecastError(
    404,
    "model_not_found",
    `${meter.meter_type} meter "${meter.meter_id}" has no trained model. Train one first: POST /trainmodel/ with {"meter_id": "${meter.meter_id}", "meter_type": "${meter.meter_type}"}.`,
  );
}

function tooFew(meter: MeterRef, needed: number, have: number): ForecastError {
  return new ForecastError(
    422,
    "not_enough_recent_readings",
    `A forecast needs the last ${needed} hours of readings without gaps; ${meter.meter_type} meter "${meter.meter_id}" has ${have} complete hours before its latest reading. Upload the missing recent readings and ask again.`,
  );
}

function outdated(meter: MeterRef): ForecastError {
  return new ForecastError(
    409,
    "model_outdated",
    `The model of ${meter.meter_type} meter "${meter.meter_id}" was trained by an earlier version of Wattcast, whose models this version cannot read. Train it again: POST /trainmodel/ with {"meter_id": "${meter.meter_id}", "meter_type": "${meter.meter_type}"}.`,
  );
}
