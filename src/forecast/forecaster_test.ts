import assert from "node:assert/strict";
import { createMemoryBroker } from "../broker/memory_broker.ts";
import { createModelStore } from "../models/model_store.ts";
import type { SavedModel } from "../training/train.ts";
import { createForecaster, ForecastError } from "./forecaster.ts";

Deno.test("a model of an earlier feature layout is refused with a 409 that says to retrain", async () => {
  const broker = createMemoryBroker({ taskTtlSeconds: 60 });
  const models = createModelStore({ broker, dataDir: null });
  const meter = { meter_id: "old1", meter_type: "electricity" as const };
  const old = {
    modelTopology: { class_name: "Model" },
    weightSpecs: [],
    weightData: new ArrayBuffer(0),
    metadata: {
      scaling: { mean: 0, std: 1 },
      window: { lookback: 168, horizon: 24 },
      trained_at: "2026-01-01T00:00:00.000Z",
      backend: "wasm",
      metrics: { epoch: 1, epochs: 1, loss: 0.1, val_loss: 0.1 },
    },
  } as unknown as SavedModel; // saved before `format` existed
  await models.save(meter, old);
  const forecaster = createForecaster({ broker, models });
  try {
    await assert.rejects(forecaster.forecast(meter, 24), (e: unknown) => {
      assert.ok(e instanceof ForecastError);
      assert.equal(e.status, 409);
      assert.equal(e.code, "model_outdated");
      assert.match(e.message, /Train it again: POST \/trainmodel\//);
      return true;
    });
  } finally {
    forecaster.close();
    await broker.close();
  }
});
