import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { DEEP_PATH_MIN_GAIN_SE, MODEL_FORMAT, trainModel } from "./train.ts";
import { parseReadingsCsv } from "../meters/csv.ts";
import type { TrainingMetrics } from "../domain/task.ts";

Deno.test("on a real meter, training beats the persistence ensemble and reports every metric", async () => {
  const csv = await Deno.readTextFile(
    new URL("../meters/demo_data/electricity_ucam_b21_2019.csv", import.meta.url),
  );
  const epochs: TrainingMetrics[] = [];
  let prepared = 0;
  const outcome = await trainModel(
    parseReadingsCsv(csv).series,
    "electricity",
    { epochs: 10, batch_size: 256, learning_rate: 0.003 },
    { onPrepared: (p) => (prepared = p.samples), onEpoch: (m) => epochs.push(m) },
  );
  assert.equal(prepared, outcome.samples);
  assert.ok(outcome.samples > 300 * 24, `${outcome.samples} samples (one per hour) from a year`);
  assert.ok(
    outcome.unusualWorkingDays > 0 && outcome.unusualWorkingDays < 30,
    `${outcome.unusualWorkingDays} holiday-like working days left out of training`,
  );
  assert.deepEqual(epochs.map((e) => e.epoch), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const e = outcome.evaluation;
  assert.ok(
    e.holdout.forecasts > 27 * 24 && e.holdout.forecasts <= 28 * 24,
    `${e.holdout.forecasts} forecasts, one from every hour of the 28 days held out`,
  );
  for (
    const key of [
      "model",
      "ridge",
      "persistence_ensemble",
      "previous_day",
      "previous_week",
    ] as const
  ) {
    assert.ok(
      Number.isFinite(e[key].cv_rmse) && Number.isFinite(e[key].nmbe) &&
        Number.isFinite(e[key].mae),
      key,
    );
  }
  assert.ok(
    e.model.cv_rmse <= e.ridge.cv_rmse * 1.05,
    "the network keeps its deep path only where it beats the linear heads",
  );
  assert.ok(
    e.beats_persistence,
    `model ${e.model.cv_rmse} vs persistence ${e.persistence_ensemble.cv_rmse}`,
  );
  assert.equal(e.served, "model");
  assert.equal(outcome.model.metadata.backend, "wasm");

  const loaded = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: outcome.model.modelTopology as tf.io.ModelJSON["modelTopology"],
    weightSpecs: outcome.model.weightSpecs,
    weightData: outcome.model.weightData,
  }));
  const out = loaded.predict([
    tf.zeros([1, 24 + 24 + 7]),
    tf.oneHot([13], 24).toFloat(),
  ]) as tf.Tensor;
  assert.deepEqual(out.shape, [1, 24]);
  out.dispose();
  // The deep path is served only when its validation gain is clear of chance; else its output
  // layer is zero and the network is its linear heads.
  const { deepPath } = outcome;
  assert.ok(deepPath.validation_gain >= 0 && deepPath.validation_gain < 1);
  assert.equal(
    deepPath.kept,
    deepPath.gain_standard_errors !== null &&
      deepPath.gain_standard_errors >= DEEP_PATH_MIN_GAIN_SE,
  );
  const deepWeights = loaded.getLayer("deep").getWeights().map((w) => [...w.dataSync()]).flat();
  assert.equal(deepWeights.some((w) => w !== 0), deepPath.kept, JSON.stringify(deepPath));
  assert.equal(outcome.model.metadata.format, MODEL_FORMAT);
  loaded.dispose();
});
