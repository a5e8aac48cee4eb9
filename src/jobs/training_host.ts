/**
 * Runs one training in its own Web Worker and relays its progress. Aborting
 * terminates the thread at once, mid-epoch.
 *
 * @module
 */
import type { ReadingSeries } from "../domain/series.ts";
import type { MeterType } from "../domain/meter.ts";
import type { TrainingOptions } from "../domain/task.ts";
import { TrainingError } from "../training/errors.ts";
import type { TrainHooks, TrainOutcome } from "../training/train.ts";
import type { ThreadMessage, TrainRequest } from "./thread_messages.ts";

/** Trains a model for some readings; the job runner's view of training. */
export type Trainer = (
  series: ReadingSeries,
  meterType: MeterType,
  options: TrainingOptions,
  hooks: TrainHooks,
  signal: AbortSignal,
) => Promise<TrainOutcome>;

/** Trains in a new Web Worker, off the calling thread. */
export function trainInThread(
  series: ReadingSeries,
  meterType: MeterType,
  options: TrainingOptions,
  hooks: TrainHooks,
  signal: AbortSignal,
): Promise<TrainOutcome> {
  signal.throwIfAborted();
  const thread = new Worker(new URL("../../worker/training_thread.ts", import.meta.url), {
    type: "module",
  });
  const { promise, resolve, reject } = Promise.withResolvers<TrainOutcome>();
  const onAbort = () => reject(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  thread.onmessage = (event: MessageEvent<ThreadMessage>) => {
    const message = event.data;
    try {
      if (message.type === "prepared") hooks.onPrepared?.(message);
      else if (message.type === "epoch") hooks.onEpoch?.(message.metrics);
      else if (message.type === "done") resolve(message.outcome);
      else if (message.code) {
        reject(
          new TrainingError(message.code, message.message, message.hint ?? ""),
        );
      } else reject(new Error(`Training thread failed: ${message.message}`));
    } catch (error) {
      reject(error);
    }
  };
  thread.onerror = (event) => {
    event.preventDefault();
    reject(new Error(`Training thread crashed: ${event.message}`));
  };
  const request: TrainRequest = { series, meterType, options };
  thread.postMessage(request);
  return promise.finally(() => {
    signal.removeEventListener("abort", onAbort);
    thread.terminate();
  });
}
