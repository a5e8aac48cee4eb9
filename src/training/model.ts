/**
 * The forecasting network: a linear path from the inputs to every horizon,
 * started at the closed-form ridge solution, plus a small non-linear path
 * that starts at zero. Training can only keep the network if it beats
 * ridge on validation, so the network is never worse than the linear
 * reference it is measured against.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { RidgeModel } from "./ridge.ts";

/** Hidden units of the non-linear path. */
export const HIDDEN_UNITS = 32;

/** Builds and compiles the network; its linear path starts at `ridge` when given. */
export function buildModel(
  features: number,
  horizon: number,
  learningRate: number,
  ridge?: RidgeModel,
): tf.LayersModel {
  const input = tf.input({ shape: [features], name: "window" });
  const linear = tf.layers.dense({ units: horizon, name: "linear" }).apply(
    input,
  ) as tf.SymbolicTensor;
  const hidden = tf.layers.dense({ units: HIDDEN_UNITS, activation: "relu", name: "hidden" })
    .apply(input) as tf.SymbolicTensor;
  const deep = tf.layers.dense({
    units: horizon,
    name: "deep",
    kernelInitializer: "zeros",
  }).apply(hidden) as tf.SymbolicTensor;
  const output = tf.layers.add({ name: "forecast" }).apply([linear, deep]) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  if (ridge) {
    model.getLayer("linear").setWeights([
      tf.tensor2d(Float32Array.from(ridge.weights), [features, horizon]),
      tf.tensor1d(Float32Array.from(ridge.bias)),
    ]);
  }
  model.compile({ optimizer: tf.train.adam(learningRate), loss: "meanSquaredError" });
  return model;
}
