import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { trainModel } from "./train.ts";
import { HOUR_MS } from "./features.ts";
import type { TrainingMetrics } from "../tracker/task.ts";

function dailyProfile(days: number) {
  const start = Date.UTC(2024, 0, 1);
  const n = days * 24;
  return {
    timestamps: Array.from({ length: n }, (_, i) => start + i * HOUR_MS),
    values: Array.from(
      { length: n },
      (_, i) => 100 + 50 * Math.sin((2 * Math.PI * (i % 24)) / 24) + (i % 7),
    ),
  };
}

Deno.test("trainModel learns a daily profile and returns a loadable layers model", async () => {
  const epochs: TrainingMetrics[] = [];
  let prepared = 0;
  const outcome = await trainModel(
    dailyProfile(30),
    { epochs: 8, batch_size: 32, learning_rate: 0.01 },
    {
      onPrepared: (p) => (prepared = p.samples),
      onEpoch: (m) => epochs.push(m),
    },
    { lookback: 24, horizon: 6 },
  );
  assert.equal(prepared, outcome.samples);
  assert.equal(outcome.dataPoints, 720);
  assert.deepEqual(epochs.map((e) => e.epoch), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(epochs.every((e) => e.epochs === 8 && Number.isFinite(e.loss)));
  assert.ok(epochs[7].loss! < epochs[0].loss!, "loss goes down");
  assert.ok(
    epochs[7].val_loss! < 0.5,
    `validation loss ${epochs[7].val_loss} is low on a clean profile`,
  );
  assert.equal(outcome.model.metadata.backend, "wasm");

  const loaded = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: outcome.model
      .modelTopology as tf.io.ModelJSON["modelTopology"],
    weightSpecs: outcome.model.weightSpecs,
    weightData: outcome.model.weightData,
  }));
  const out = loaded.predict(tf.zeros([1, 24 + 9])) as tf.Tensor;
  assert.deepEqual(out.shape, [1, 6]);
  out.dispose();
  loaded.dispose();
});
