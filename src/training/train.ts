/**
 * Trains one meter's day-ahead model and judges it: clean the readings,
 * hold out the most recent weeks, fit ridge regression in closed form, train
 * the network from it (kept only where it beats ridge on validation),
 * then score model, ridge and baselines on the holdout and decide what to
 * serve. Runs in whichever thread calls it (the job runner uses a Web Worker).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type CleaningReport, cleanReadings } from "../meters/cleaning.ts";
import type { ReadingSeries } from "../meters/series.ts";
import type { MeterType, TrainingMetrics, TrainingOptions } from "../tracker/task.ts";
import { useFastestBackend } from "./backend.ts";
import { TrainingError } from "./errors.ts";
import { evaluate, type Evaluation } from "./evaluation.ts";
import {
  buildSamples,
  complete,
  dayStarts,
  DEFAULT_WINDOW,
  type HourlyGrid,
  type Scaling,
  scalingOf,
  type WindowSpec,
  writeFeatures,
} from "./features.ts";
import { buildModel } from "./model.ts";
import { fitRidge, predictRidge } from "./ridge.ts";

/** Days held out at the end for judging the model. */
export const HOLDOUT_DAYS = 28;
/** Fewest day-ahead samples worth training on. */
export const MIN_TRAINING_DAYS = 21;
/** Share of the training days (the latest) used for validation. */
export const VALIDATION_SHARE = 0.15;

/** A trained model in TensorFlow.js layers format, as plain transferable data. */
export interface SavedModel {
  /** The `modelTopology` of `model.json`. */
  modelTopology: unknown;
  /** The weights manifest entries of `model.json`. */
  weightSpecs: tf.io.WeightsManifestEntry[];
  /** All weights, concatenated (`weights.bin`). */
  weightData: ArrayBuffer;
  /** What a forecaster needs besides the network. */
  metadata: {
    scaling: Scaling;
    window: WindowSpec;
    trained_at: string;
    backend: string;
    metrics: TrainingMetrics;
    evaluation?: Evaluation;
    cleaning?: CleaningReport;
  };
}

/** Callbacks while training. */
export interface TrainHooks {
  /** Samples are built; fitting starts. */
  onPrepared?(info: { samples: number; backend: string }): void;
  /** One epoch is done. */
  onEpoch?(metrics: TrainingMetrics): void;
}

/** What training produced. */
export interface TrainOutcome {
  model: SavedModel;
  /** Readings the model was trained from. */
  dataPoints: number;
  /** Day-ahead training samples. */
  samples: number;
  evaluation: Evaluation;
  cleaning: CleaningReport;
}

/** Trains and judges a meter's model. */
export async function trainModel(
  series: ReadingSeries,
  meterType: MeterType,
  options: TrainingOptions,
  hooks: TrainHooks = {},
  window: WindowSpec = DEFAULT_WINDOW,
): Promise<TrainOutcome> {
  const backend = await useFastestBackend();
  const clean = cleanReadings(series, meterType);
  const grid: HourlyGrid = { start: clean.start, values: clean.values };
  const { lookback, horizon } = window;
  const n = grid.values.length;
  const days = Math.floor(n / 24);
  const needed = MIN_TRAINING_DAYS + 7 + Math.ceil(lookback / 24) + 1;
  if (days < needed) {
    throw new TrainingError(
      "not_enough_readings",
      `The meter has ${days} days of hourly readings; training needs at least ${needed}.`,
      `Upload at least ${needed} days of consecutive hourly readings and train again.`,
    );
  }
  const holdoutDays = Math.min(HOLDOUT_DAYS, Math.max(7, Math.floor(days * 0.15)));
  const holdoutStart = n - holdoutDays * 24;
  const scaling = scalingOf(grid.values.subarray(0, holdoutStart));
  const set = buildSamples(grid, scaling, window, 0, holdoutStart);
  const evalOrigins = dayStarts(grid, holdoutStart, n)
    .filter((t) => t + horizon <= n && complete(grid.values, t - lookback, t));
  if (set.count < MIN_TRAINING_DAYS || evalOrigins.length === 0) {
    throw new TrainingError(
      "not_enough_readings",
      `Only ${set.count} complete days (a week of history and the day after, without gaps) are left to train on after cleaning; training needs at least ${MIN_TRAINING_DAYS}.`,
      `Upload a longer stretch of hourly readings with fewer gaps (cleaning: ${clean.report.policy}).`,
    );
  }
  hooks.onPrepared?.({ samples: set.count, backend });

  const { features } = set;
  const split = Math.max(1, Math.floor(set.count * (1 - VALIDATION_SHARE)));
  const trainX = set.inputs.subarray(0, split * features),
    trainY = set.targets.subarray(0, split * horizon);
  const valX = set.inputs.subarray(split * features), valY = set.targets.subarray(split * horizon);
  const valRows = set.count - split;
  const ridge = fitRidge(trainX, trainY, split, features, horizon, VALIDATION_SHARE);
  const ridgeVal = predictRidge(ridge, valX, valRows);
  let ridgeValLoss = 0;
  for (let i = 0; i < ridgeVal.length; i++) ridgeValLoss += (ridgeVal[i] - valY[i]) ** 2;
  ridgeValLoss /= Math.max(1, ridgeVal.length);

  const metrics: TrainingMetrics = { epoch: 0, epochs: options.epochs, loss: null, val_loss: null };
  const model = buildModel(features, horizon, options.learning_rate, ridge);
  const tensors = [
    tf.tensor2d(trainX, [split, features]),
    tf.tensor2d(trainY, [split, horizon]),
    tf.tensor2d(valX, [valRows, features]),
    tf.tensor2d(valY, [valRows, horizon]),
  ];
  let best = { loss: ridgeValLoss, weights: model.getWeights().map((w) => w.clone()) };
  try {
    await model.fit(tensors[0], tensors[1], {
      epochs: options.epochs,
      batchSize: options.batch_size,
      validationData: valRows > 0 ? [tensors[2], tensors[3]] : undefined,
      shuffle: true,
      verbose: 0,
      callbacks: {
        onEpochEnd: (epoch, logs) => {
          metrics.epoch = epoch + 1;
          metrics.loss = logs?.loss ?? null;
          metrics.val_loss = logs?.val_loss ?? null;
          if (metrics.val_loss !== null && metrics.val_loss < best.loss) {
            best.weights.forEach((w) => w.dispose());
            best = { loss: metrics.val_loss, weights: model.getWeights().map((w) => w.clone()) };
          }
          hooks.onEpoch?.({ ...metrics });
        },
      },
    });
    // Keep the best validation weights: ridge's own when the network never beat it.
    model.setWeights(best.weights);
    metrics.val_loss = best.loss;

    const forecastWith = (predict: (x: Float32Array) => ArrayLike<number>) => {
      const cache = new Map<number, Float64Array>();
      const x = new Float32Array(features);
      return (origin: number) => {
        let out = cache.get(origin);
        if (!out) {
          writeFeatures(grid, scaling, window, origin, x, 0);
          const z = predict(x);
          out = Float64Array.from({ length: horizon }, (_, k) => z[k] * scaling.std + scaling.mean);
          cache.set(origin, out);
        }
        return out;
      };
    };
    const evaluation = evaluate(
      grid.values,
      evalOrigins,
      horizon,
      forecastWith((x) =>
        tf.tidy(() => (model.predict(tf.tensor2d(x, [1, features])) as tf.Tensor).dataSync())
      ),
      forecastWith((x) => predictRidge(ridge, x, 1)),
      grid.start,
    );

    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler((artifacts) => {
      saved = artifacts;
      return Promise.resolve({
        modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" },
      });
    }));
    if (!saved?.weightSpecs || !saved.weightData) throw new Error("TensorFlow.js saved no weights");
    return {
      model: {
        modelTopology: saved.modelTopology,
        weightSpecs: saved.weightSpecs,
        weightData: tf.io.CompositeArrayBuffer.join(saved.weightData),
        metadata: {
          scaling,
          window,
          trained_at: new Date().toISOString(),
          backend,
          metrics: { ...metrics },
          evaluation,
          cleaning: clean.report,
        },
      },
      dataPoints: series.timestamps.length,
      samples: set.count,
      evaluation,
      cleaning: clean.report,
    };
  } finally {
    tensors.forEach((t) => t.dispose());
    best.weights.forEach((w) => w.dispose());
    model.dispose();
  }
}
