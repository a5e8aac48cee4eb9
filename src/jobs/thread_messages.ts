/**
 * Messages between the job runner and its training thread (a Web Worker).
 *
 * @module
 */
import type { ReadingSeries } from "../domain/series.ts";
import type { MeterType } from "../domain/meter.ts";
import type { TrainingMetrics, TrainingOptions } from "../domain/task.ts";
import type { TrainOutcome } from "../training/train.ts";

/** Sent to the thread: train on these readings. */
export interface TrainRequest {
  series: ReadingSeries;
  meterType: MeterType;
  options: TrainingOptions;
}

/** Sent back by the thread. */
export type ThreadMessage =
  | { type: "prepared"; samples: number; backend: string }
  | { type: "epoch"; metrics: TrainingMetrics }
  | { type: "done"; outcome: TrainOutcome }
  | { type: "error"; code?: string; message: string; hint?: string };
