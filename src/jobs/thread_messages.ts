/**
 * Messages between the training pool and a training thread (a Web Worker).
 *
 * @module
 */
import type { ReadingSeries } from "../domain/series.ts";
import type { MeterType } from "../domain/meter.ts";
import type { TrainingMetrics, TrainingOptions } from "../domain/task.ts";
import type { TrainOutcome } from "../training/train.ts";

/** Sent to the thread: train on these readings, or stop the training under way. */
export type ToThread =
  | { type: "train"; series: ReadingSeries; meterType: MeterType; options: TrainingOptions }
  | { type: "abort" };

/** Sent back by the thread. */
export type ThreadMessage =
  | { type: "prepared"; samples: number; backend: string }
  | { type: "epoch"; metrics: TrainingMetrics }
  | { type: "done"; outcome: TrainOutcome }
  | { type: "aborted" }
  | { type: "error"; code?: string; message: string; hint?: string; stack?: string };
