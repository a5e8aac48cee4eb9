import assert from "node:assert/strict";
import { createFileModelStore } from "./model_store.ts";
import type { SavedModel } from "../training/train.ts";

Deno.test("models are written in layers format and replaced whole", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = createFileModelStore(dir);
    await store.check();
    const model = (bytes: number[]): SavedModel => ({
      modelTopology: { class_name: "Model" },
      weightSpecs: [{ name: "w", shape: [bytes.length / 4], dtype: "float32" }],
      weightData: new Uint8Array(bytes).buffer,
      metadata: {
        scaling: { mean: 1, std: 2 },
        window: { lookback: 168, horizon: 24 },
        trained_at: "2026-01-01T00:00:00.000Z",
        backend: "wasm",
        metrics: { epoch: 1, epochs: 1, loss: 0.1, val_loss: 0.2 },
      },
    });
    const meter = { meter_id: "m1", meter_type: "gas" as const };
    assert.equal(await store.save(meter, model([1, 2, 3, 4])), "models/gas/m1");
    await store.save(meter, model([5, 6, 7, 8, 9, 10, 11, 12]));
    const json = JSON.parse(
      await Deno.readTextFile(`${dir}/models/gas/m1/model.json`),
    );
    assert.equal(json.format, "layers-model");
    assert.deepEqual(json.weightsManifest[0].paths, ["weights.bin"]);
    assert.deepEqual(json.userDefinedMetadata.scaling, { mean: 1, std: 2 });
    assert.deepEqual([
      ...await Deno.readFile(`${dir}/models/gas/m1/weights.bin`),
    ], [5, 6, 7, 8, 9, 10, 11, 12]);
    assert.deepEqual(await store.describe(meter), {
      model_path: "models/gas/m1",
      trained_at: "2026-01-01T00:00:00.000Z",
      metrics: { epoch: 1, epochs: 1, loss: 0.1, val_loss: 0.2 },
    });
    assert.equal(await store.describe({ ...meter, meter_id: "none" }), null);
    const entries = [...Deno.readDirSync(`${dir}/models/gas`)].map((e) => e.name);
    assert.deepEqual(entries, ["m1"], "no staging directory is left behind");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
