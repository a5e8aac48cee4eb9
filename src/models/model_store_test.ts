import assert from "node:assert/strict";
import { createMemoryBroker } from "../broker/memory_broker.ts";
import { createModelStore } from "./model_store.ts";
import { MODEL_FORMAT, type SavedModel } from "../training/train.ts";

const model = (bytes: number[], trained_at = "2026-01-01T00:00:00.000Z"): SavedModel => ({
  modelTopology: { class_name: "Model" },
  weightSpecs: [{ name: "w", shape: [bytes.length / 4], dtype: "float32" }],
  weightData: new Uint8Array(bytes).buffer,
  metadata: {
    format: MODEL_FORMAT,
    scaling: { mean: 1, std: 2 },
    window: { lookback: 168, horizon: 24 },
    trained_at,
    backend: "wasm",
    metrics: { epoch: 1, epochs: 1, loss: 0.1, val_loss: 0.2 },
  },
});

Deno.test("models go to the broker and to layers-format files, replaced whole", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const broker = createMemoryBroker({ taskTtlSeconds: 60 });
    const store = createModelStore({ broker, dataDir: dir });
    await store.check();
    const meter = { meter_id: "m1", meter_type: "gas" as const };
    assert.equal(await store.save(meter, model([1, 2, 3, 4])), "models/gas/m1");
    await store.save(meter, model([5, 6, 7, 8, 9, 10, 11, 12], "2026-02-01T00:00:00.000Z"));
    const json = JSON.parse(await Deno.readTextFile(`${dir}/models/gas/m1/model.json`));
    assert.equal(json.format, "layers-model");
    assert.deepEqual(json.weightsManifest[0].paths, ["weights.bin"]);
    assert.deepEqual([...await Deno.readFile(`${dir}/models/gas/m1/weights.bin`)], [
      5,
      6,
      7,
      8,
      9,
      10,
      11,
      12,
    ]);
    assert.deepEqual(
      [...Deno.readDirSync(`${dir}/models/gas`)].map((e) => e.name),
      ["m1"],
      "no staging left",
    );

    const loaded = await store.load(meter);
    assert.deepEqual(
      [...loaded!.weights],
      [5, 6, 7, 8, 9, 10, 11, 12],
      "the broker holds the same model",
    );
    assert.equal((await store.describe(meter))?.trained_at, "2026-02-01T00:00:00.000Z");
    assert.equal(await store.describe({ ...meter, meter_id: "none" }), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without a data directory, models live in the broker only", async () => {
  const broker = createMemoryBroker({ taskTtlSeconds: 60 });
  const store = createModelStore({ broker, dataDir: null });
  await store.check();
  await store.save({ meter_id: "edge", meter_type: "water" }, model([1, 2, 3, 4]));
  assert.equal(
    (await broker.getModel({ meter_id: "edge", meter_type: "water" }))?.weights.length,
    4,
  );
});
