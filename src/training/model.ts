/**
 * The forecasting network: a small dense hidden layer plus a linear skip
 * path from the inputs straight to every horizon, so the model starts from
 * (and must improve on) a linear autoregression.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Hidden units of the non-linear path. */
export const HIDDEN_UNITS = 64;

/** Builds and compiles the network for `features` inputs and `horizon` outputs. */
export function buildModel(
  features: number,
  horizon: number,
  learningRate: number,
): tf.LayersModel {
  const input = tf.input({ shape: [features], name: "window" });
  const hidden = tf.layers.dense({
    units: HIDDEN_UNITS,
    activation: "relu",
    name: "hidden",
  }).apply(input) as tf.SymbolicTensor;
  const deep = tf.layers.dense({ units: horizon, name: "deep" })
    .apply(hidden) as tf.SymbolicTensor;
  const linear = tf.layers.dense({ units: horizon, name: "linear" })
    .apply(input) as tf.SymbolicTensor;
  const output = tf.layers.add({ name: "forecast" })
    .apply([deep, linear]) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  model.compile({
    optimizer: tf.train.adam(learningRate),
    loss: "meanSquaredError",
  });
  return model;
}
