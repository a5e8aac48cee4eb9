/**
 * Trains one meter's model from its readings and returns it in TensorFlow.js
 * layers format, ready to store. Runs in whichever thread calls it (the job
 * runner calls it from a Web Worker).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { ReadingSeries } from "../meters/series.ts";
import type { TrainingMetrics, TrainingOptions } from "../tracker/task.ts";
import { useFastestBackend } from "./backend.ts";
import { buildSamples, DEFAULT_WINDOW, type Scaling, type WindowSpec } from "./features.ts";
import { buildModel } from "./model.ts";

/** Share of the most recent samples held out for validation. */
export const VALIDATION_SPLIT = 0.1;

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
  /** Samples (windows) built from them. */
  samples: number;
}

/** Trains a model on the readings. */
export async function trainModel(
  series: ReadingSeries,
  options: TrainingOptions,
  hooks: TrainHooks = {},
  window: WindowSpec = DEFAULT_WINDOW,
): Promise<TrainOutcome> {
  const backend = await useFastestBackend();
  const set = buildSamples(series, window);
  hooks.onPrepared?.({ samples: set.count, backend });
  const metrics: TrainingMetrics = {
    epoch: 0,
    epochs: options.epochs,
    loss: null,
    val_loss: null,
  };
  const model = buildModel(set.features, window.horizon, options.learning_rate);
  const x = tf.tensor2d(set.inputs, [set.count, set.features]);
  const y = tf.tensor2d(set.targets, [set.count, window.horizon]);
  try {
    await model.fit(x, y, {
      epochs: options.epochs,
      batchSize: options.batch_size,
      validationSplit: VALIDATION_SPLIT,
      shuffle: true,
      verbose: 0,
      callbacks: {
        onEpochEnd: (epoch, logs) => {
          metrics.epoch = epoch + 1;
          metrics.loss = logs?.loss ?? null;
          metrics.val_loss = logs?.val_loss ?? null;
          hooks.onEpoch?.({ ...metrics });
        },
      },
    });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler((artifacts) => {
      saved = artifacts;
      return Promise.resolve({
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: "JSON",
        },
      });
    }));
    if (!saved?.weightSpecs || !saved.weightData) {
      throw new Error("TensorFlow.js saved no weights");
    }
    return {
      model: {
        modelTopology: saved.modelTopology,
        weightSpecs: saved.weightSpecs,
        weightData: tf.io.CompositeArrayBuffer.join(saved.weightData),
        metadata: {
          scaling: set.scaling,
          window,
          trained_at: new Date().toISOString(),
          backend,
          metrics: { ...metrics },
        },
      },
      dataPoints: series.timestamps.length,
      samples: set.count,
    };
  } finally {
    x.dispose();
    y.dispose();
    model.dispose();
  }
}
