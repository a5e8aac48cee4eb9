/**
 * Writes trained models to disk in TensorFlow.js layers format:
 * `{dataDir}/models/{meter_type}/{meter_id}/model.json` and `weights.bin`.
 * A model is written beside the old one and swapped in with a rename, so a
 * reader never sees half a model.
 *
 * @module
 */
import type { MeterRef } from "../tracker/task.ts";
import type { SavedModel } from "../training/train.ts";

/** Stores trained models. */
export interface ModelStore {
  /** Saves the model; returns its path relative to the data directory. */
  save(meter: MeterRef, model: SavedModel): Promise<string>;
  /** Checks the store is writable; throws when not. */
  check(): Promise<void>;
  /** What is known about the meter's model, or null if it has none. */
  describe(meter: MeterRef): Promise<ModelInfo | null>;
}

/** Facts about a stored model. */
export interface ModelInfo {
  model_path: string;
  trained_at: string;
  metrics: SavedModel["metadata"]["metrics"];
}

/** The relative path of a meter's model, `models/{meter_type}/{meter_id}`. */
export function modelPath(meter: MeterRef): string {
  return `models/${meter.meter_type}/${meter.meter_id}`;
}

/** Creates a model store that writes under `dataDir`. */
export function createFileModelStore(dataDir: string): ModelStore {
  const root = dataDir.replace(/\/+$/, "");
  return {
    async save(meter, model) {
      const path = modelPath(meter);
      const target = `${root}/${path}`;
      const staging = `${target}.${crypto.randomUUID()}.tmp`;
      await Deno.mkdir(staging, { recursive: true });
      const modelJson = {
        format: "layers-model",
        generatedBy: "wattcast",
        convertedBy: null,
        modelTopology: model.modelTopology,
        weightsManifest: [{
          paths: ["weights.bin"],
          weights: model.weightSpecs,
        }],
        userDefinedMetadata: model.metadata,
      };
      try {
        await Deno.writeFile(
          `${staging}/weights.bin`,
          new Uint8Array(model.weightData),
        );
        await Deno.writeTextFile(
          `${staging}/model.json`,
          JSON.stringify(modelJson),
        );
        await Deno.remove(target, { recursive: true }).catch((e) => {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        });
        await Deno.rename(staging, target);
      } catch (error) {
        await Deno.remove(staging, { recursive: true }).catch(() => {});
        throw error;
      }
      return path;
    },

    async describe(meter) {
      const path = modelPath(meter);
      try {
        const json = JSON.parse(await Deno.readTextFile(`${root}/${path}/model.json`));
        const meta = json.userDefinedMetadata as SavedModel["metadata"];
        return { model_path: path, trained_at: meta.trained_at, metrics: meta.metrics };
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return null;
        throw error;
      }
    },

    async check() {
      await Deno.mkdir(`${root}/models`, { recursive: true });
      const probe = `${root}/models/.write-check-${crypto.randomUUID()}`;
      await Deno.writeTextFile(probe, "");
      await Deno.remove(probe);
    },
  };
}
