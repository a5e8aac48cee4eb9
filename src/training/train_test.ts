import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { trainModel } from "./train.ts";
import { parseReadingsCsv } from "../meters/csv.ts";
import type { TrainingMetrics } from "../tracker/task.ts";

Deno.test("on a real meter, training beats the persistence ensemble and reports every metric", async () => {
  const csv = await Deno.readTextFile(
    new URL("../meters/demo_data/electricity_ucam_b21_2019.csv", import.meta.url),
  );
  const epochs: TrainingMetrics[] = [];
  let prepared = 0;
  const outcome = await trainModel(
    parseReadingsCsv(csv).series,
    "electricity",
    { epochs: 10, batch_size: 32, learning_rate: 0.001 },
    { onPrepared: (p) => (prepared = p.samples), onEpoch: (m) => epochs.push(m) },
  );
  assert.equal(prepared, outcome.samples);
  assert.ok(outcome.samples > 300, `${outcome.samples} day-ahead samples from a year`);
  assert.deepEqual(epochs.map((e) => e.epoch), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const e = outcome.evaluation;
  assert.equal(e.holdout.forecasts, 28);
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
    "the network starts from ridge and keeps it unless it does better",
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
  const out = loaded.predict(tf.zeros([1, 168 + 7])) as tf.Tensor;
  assert.deepEqual(out.shape, [1, 24]);
  out.dispose();
  loaded.dispose();
});
