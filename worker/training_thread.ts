/**
 * Entry point of the training thread: a Web Worker that trains one model
 * and reports each step to the thread that started it. Training here keeps
 * the API, heartbeats and other streams responsive.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { TrainingError } from "../src/training/errors.ts";
import { trainModel } from "../src/training/train.ts";
import type { ThreadMessage, TrainRequest } from "../src/jobs/thread_messages.ts";

function send(message: ThreadMessage, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

self.onmessage = async (event: MessageEvent<TrainRequest>) => {
  try {
    const { series, meterType, options } = event.data;
    const outcome = await trainModel(series, meterType, options, {
      onPrepared: (info) => send({ type: "prepared", ...info }),
      onEpoch: (metrics) => send({ type: "epoch", metrics }),
    });
    send({ type: "done", outcome }, [outcome.model.weightData]);
  } catch (error) {
    if (error instanceof TrainingError) {
      send({
        type: "error",
        code: error.code,
        message: error.message,
        hint: error.hint,
      });
    } else {
      console.error("Training thread failed:", error);
      send({
        type: "error",
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }
};
