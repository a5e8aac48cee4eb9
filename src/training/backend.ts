/**
 * Selects TensorFlow.js's wasm backend, loading its binaries from the npm
 * package itself (no network). The pure-JS cpu backend is the fallback.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { logger } from "../logging/logging.ts";

let ready: Promise<string> | undefined;

/** Makes the wasm backend current (once per thread) and returns the backend's name. */
export function useFastestBackend(): Promise<string> {
  ready ??= (async () => {
    setWasmPaths(
      new URL("./", import.meta.resolve("@tensorflow/tfjs-backend-wasm")).href,
    );
    if (await tf.setBackend("wasm").catch(() => false)) return "wasm";
    logger("training").warn(
      "TensorFlow.js wasm backend failed to start; training on the slower cpu backend.",
    );
    await tf.setBackend("cpu");
    return "cpu";
  })();
  return ready;
}
