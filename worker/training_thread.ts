/**
 * Entry point of a training thread: a Web Worker of the training pool
 * (`src/jobs/training_pool.ts`) that trains one model at a time and reports
 * each step to the thread that started it. Training here keeps the API,
 * heartbeats and other streams responsive. An `abort` message stops the
 * training under way after its current batch; the thread then waits for
 * the next one.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { TrainingError } from "../src/training/errors.ts";
import { trainModel } from "../src/training/train.ts";
import type { ThreadMessage, ToThread } from "../src/jobs/thread_messages.ts";

function send(message: ThreadMessage, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

let current: AbortController | undefined;

self.onmessage = async (event: MessageEvent<ToThread>) => {
  const message = event.data;
  if (message.type === "abort") {
    current?.abort();
    return;
  }
  const controller = new AbortController();
  current = controller;
  try {
    const { series, meterType, options } = message;
    const outcome = await trainModel(series, meterType, options, {
      onPrepared: (info) => send({ type: "prepared", ...info }),
      onEpoch: (metrics) => send({ type: "epoch", metrics }),
      signal: controller.signal,
    });
    send({ type: "done", outcome }, [outcome.model.weightData]);
  } catch (error) {
    if (controller.signal.aborted) {
      send({ type: "aborted" });
    } else if (error instanceof TrainingError) {
      send({ type: "error", code: error.code, message: error.message, hint: error.hint });
    } else {
      // Logged by the job that ran it (its stack included): this thread has no log of its own.
      send({
        type: "error",
        message: error instanceof Error ? error.message : String(error),
        stack: error instanceof Error ? error.stack : undefined,
      });
    }
  } finally {
    if (current === controller) current = undefined;
  }
};
