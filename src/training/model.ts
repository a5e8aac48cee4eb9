/**
 * The forecasting network, in TensorFlow.js layers format. Two inputs: the
 * features of a forecast and its issue hour (one-hot). Two paths, added:
 * - **linear**: one linear head per issue hour, solved in closed form by
 *   ridge regression and frozen (a dense layer to `24 × horizon` outputs,
 *   of which the issue hour selects its `horizon`);
 * - **deep**: a small non-linear path on the features and the issue hour,
 *   started at zero and trained by gradient descent on what the linear
 *   path leaves.
 *
 * The output corrects the similar-day anchor (see `features.ts`). Training
 * keeps the deep path only where it beats the linear path on validation by
 * a clear margin (`train.ts`), so the network is never worse there than its
 * linear part.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { ISSUE_HOURS, type SampleSet } from "./features.ts";
import { fitRidge, type RidgeModel } from "./ridge.ts";

/** Hidden units of the non-linear path. */
export const HIDDEN_UNITS = 32;

/** The network, and the part of it gradient descent trains. */
export interface ForecastNetwork {
  /** Inputs `[features, issue hour]`; output the `horizon` standardised corrections. */
  model: tf.LayersModel;
  /** The deep path alone, sharing the model's layers: fitted to what the linear path leaves. */
  deep: tf.LayersModel;
}

/**
 * Fits one ridge head per issue hour on the samples of that hour (each
 * choosing its own penalty on its latest `validationShare`). An hour with
 * too few samples gets a zero head: the anchor alone. With `deepOutputs`
 * (`count × horizon`, the deep path's output for each sample), the heads
 * fit what the deep path leaves, so that heads and deep path added
 * together do not count twice what the deep path already adds.
 */
export function fitLinearHeads(
  set: SampleSet,
  horizon: number,
  validationShare: number,
  deepOutputs?: ArrayLike<number>,
): RidgeModel[] {
  const { features } = set;
  return Array.from({ length: ISSUE_HOURS }, (_, hour) => {
    const rows: number[] = [];
    for (let i = 0; i < set.count; i++) if (set.hours[i] === hour) rows.push(i);
    if (rows.length < 2) {
      return {
        weights: new Float64Array(features * horizon),
        bias: new Float64Array(horizon),
        features,
        outputs: horizon,
        lambda: 0,
      };
    }
    const x = new Float32Array(rows.length * features), y = new Float32Array(rows.length * horizon);
    rows.forEach((r, i) => {
      x.set(set.inputs.subarray(r * features, (r + 1) * features), i * features);
      for (let k = 0; k < horizon; k++) {
        const at = r * horizon + k;
        y[i * horizon + k] = set.targets[at] - (deepOutputs ? deepOutputs[at] : 0);
      }
    });
    return fitRidge(x, y, rows.length, features, horizon, validationShare);
  });
}

/** Sets the network's linear path to `heads` (one per issue hour). */
export function setLinearHeads(model: tf.LayersModel, heads: RidgeModel[]): void {
  const { features, outputs: horizon } = heads[0];
  // Head h's weights fill columns h·horizon … (h+1)·horizon − 1.
  const kernel = new Float32Array(features * ISSUE_HOURS * horizon);
  const bias = new Float32Array(ISSUE_HOURS * horizon);
  heads.forEach((head, h) => {
    for (let j = 0; j < features; j++) {
      for (let k = 0; k < horizon; k++) {
        kernel[j * ISSUE_HOURS * horizon + h * horizon + k] = head.weights[j * horizon + k];
      }
    }
    for (let k = 0; k < horizon; k++) bias[h * horizon + k] = head.bias[k];
  });
  tf.tidy(() =>
    model.getLayer("linear").setWeights([
      tf.tensor2d(kernel, [features, ISSUE_HOURS * horizon]),
      tf.tensor1d(bias),
    ])
  );
}

/** Builds and compiles the network with its linear heads set to `heads`. */
export function buildModel(
  features: number,
  horizon: number,
  learningRate: number,
  heads: RidgeModel[],
): ForecastNetwork {
  const input = tf.input({ shape: [features], name: "features" });
  const hour = tf.input({ shape: [ISSUE_HOURS], name: "issue_hour" });
  const allHeads = tf.layers.dense({
    units: ISSUE_HOURS * horizon,
    name: "linear",
    trainable: false,
  })
    .apply(input) as tf.SymbolicTensor;
  const byHour = tf.layers.reshape({ targetShape: [ISSUE_HOURS, horizon], name: "linear_by_hour" })
    .apply(allHeads) as tf.SymbolicTensor;
  const linear = tf.layers.dot({ axes: 1, name: "linear_for_hour" }).apply([
    hour,
    byHour,
  ]) as tf.SymbolicTensor;
  const both = tf.layers.concatenate({ name: "deep_input" }).apply([
    input,
    hour,
  ]) as tf.SymbolicTensor;
  const hidden = tf.layers.dense({ units: HIDDEN_UNITS, activation: "relu", name: "hidden" })
    .apply(both) as tf.SymbolicTensor;
  const deep = tf.layers.dense({ units: horizon, name: "deep", kernelInitializer: "zeros" })
    .apply(hidden) as tf.SymbolicTensor;
  const output = tf.layers.add({ name: "forecast" }).apply([linear, deep]) as tf.SymbolicTensor;
  const model = tf.model({ inputs: [input, hour], outputs: output });
  const deepModel = tf.model({ inputs: [input, hour], outputs: deep });

  setLinearHeads(model, heads);
  deepModel.compile({ optimizer: tf.train.adam(learningRate), loss: "meanSquaredError" });
  model.compile({ optimizer: tf.train.adam(learningRate), loss: "meanSquaredError" });
  return { model, deep: deepModel };
}

/**
 * Runs a network of inputs `[features, issue hour]` (the model, or its deep
 * path alone) on `rows` samples: `inputs` row-major, `issueHours` one-hot.
 * One batch: TensorFlow.js otherwise predicts 32 rows at a time, one run of
 * the graph each (270 runs for a meter-year of samples, seconds of a training).
 */
export function predictRows(
  network: tf.LayersModel,
  inputs: Float32Array,
  issueHours: Float32Array,
  rows: number,
): Float32Array {
  return tf.tidy(() =>
    (network.predict([
      tf.tensor2d(inputs, [rows, inputs.length / rows]),
      tf.tensor2d(issueHours, [rows, ISSUE_HOURS]),
    ], { batchSize: Math.max(1, rows) }) as tf.Tensor).dataSync() as Float32Array
  );
}
