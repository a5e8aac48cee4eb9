/**
 * Stores trained models in TensorFlow.js layers format: in the broker, so
 * every API instance can load them (in Redis mode an edge instance has no
 * shared disk), and also as `{dataDir}/models/{meter_type}/{meter_id}/`
 * (`model.json` and `weights.bin`) when a data directory is set. A file
 * model is written beside the old one and swapped in with a rename.
 *
 * @module
 */
import type { Broker } from "../broker/broker.ts";
import type { MeterRef } from "../domain/meter.ts";
import type { SavedModel } from "../training/train.ts";

/** Facts about a stored model. */
export interface ModelInfo {
  model_path: string;
  trained_at: string;
  metrics: SavedModel["metadata"]["metrics"];
  evaluation: SavedModel["metadata"]["evaluation"] | null;
  /** True when the model corrects its forecasts for the site's temperature. */
  weather_aware: boolean;
}

/** A stored model, ready to load with `tf.io.fromMemory`. */
export interface LoadedArtifacts {
  /** The parsed `model.json`. */
  json: ModelJson;
  weights: Uint8Array;
}

/** The `model.json` document. */
export interface ModelJson {
  format: "layers-model";
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: SavedModel["weightSpecs"] }[];
  userDefinedMetadata: SavedModel["metadata"];
}

/** Stores trained models. */
export interface ModelStore {
  /**
   * Saves the model; returns its path, `models/{meter_type}/{meter_id}`: its
   * key in the broker, and its directory under the data directory when mirrored.
   */
  save(meter: MeterRef, model: SavedModel): Promise<string>;
  /** The meter's model, or null. */
  load(meter: MeterRef): Promise<LoadedArtifacts | null>;
  /** What is known about the meter's model, or null if it has none. */
  describe(meter: MeterRef): Promise<ModelInfo | null>;
  /**
   * Removes the model's files under the data directory (the broker's copy
   * goes with the meter); true when there were any.
   */
  remove(meter: MeterRef): Promise<boolean>;
  /** Checks the model directory (when mirrored) is writable; throws when not. */
  check(): Promise<void>;
}

/** The relative path of a meter's model, `models/{meter_type}/{meter_id}`. */
export function modelPath(meter: MeterRef): string {
  return `models/${meter.meter_type}/${meter.meter_id}`;
}

/** Creates the model store on the broker, mirrored under `dataDir` when set. */
export function createModelStore(options: { broker: Broker; dataDir: string | null }): ModelStore {
  const { broker } = options;
  const root = options.dataDir?.replace(/\/+$/, "") ?? null;

  async function writeFiles(path: string, json: string, weights: Uint8Array): Promise<void> {
    const target = `${root}/${path}`;
    const staging = `${target}.${crypto.randomUUID()}.tmp`;
    await Deno.mkdir(staging, { recursive: true });
    try {
      await Deno.writeFile(`${staging}/weights.bin`, weights);
      await Deno.writeTextFile(`${staging}/model.json`, json);
      await Deno.remove(target, { recursive: true }).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
      await Deno.rename(staging, target);
    } catch (error) {
      await Deno.remove(staging, { recursive: true }).catch(() => {});
      throw error;
    }
  }

  async function load(meter: MeterRef): Promise<LoadedArtifacts | null> {
    const stored = await broker.getModel(meter);
    return stored ? { json: JSON.parse(stored.json), weights: stored.weights } : null;
  }

  return {
    async save(meter, model) {
      const path = modelPath(meter);
      const document: ModelJson = {
        format: "layers-model",
        modelTopology: model.modelTopology,
        weightsManifest: [{ paths: ["weights.bin"], weights: model.weightSpecs }],
        userDefinedMetadata: model.metadata,
      };
      const json = JSON.stringify({ ...document, generatedBy: "wattcast", convertedBy: null });
      const weights = new Uint8Array(model.weightData);
      if (root) await writeFiles(path, json, weights);
      await broker.putModel(meter, { trainedAt: model.metadata.trained_at, json, weights });
      return path;
    },

    load,

    async describe(meter) {
      const stored = await broker.getModelJson(meter); // the weights are not needed here
      if (!stored) return null;
      const meta = (JSON.parse(stored.json) as ModelJson).userDefinedMetadata;
      return {
        model_path: modelPath(meter),
        trained_at: meta.trained_at,
        metrics: meta.metrics,
        evaluation: meta.evaluation ?? null,
        weather_aware: meta.weather !== undefined,
      };
    },

    async remove(meter) {
      if (!root) return false;
      try {
        await Deno.remove(`${root}/${modelPath(meter)}`, { recursive: true });
        return true;
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return false;
        throw error;
      }
    },

    async check() {
      if (!root) return; // the broker is checked on its own
      await Deno.mkdir(`${root}/models`, { recursive: true });
      const probe = `${root}/models/.write-check-${crypto.randomUUID()}`;
      await Deno.writeTextFile(probe, "");
      await Deno.remove(probe);
    },
  };
}
