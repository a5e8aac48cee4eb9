/**
 * Training tasks: the task status object (`Task`), its status word
 * (`TaskStatus`, such as `TRAINING_MODEL`), and the state machine: which
 * statuses exist, which are final, and which moves between them are allowed.
 *
 * @module
 */
import type { MeterRef, MeterType } from "./meter.ts";

/** Every status a training task can be in. */
export const TASK_STATUSES = [
  "PENDING",
  "FETCHING_DATA",
  "PREPROCESSING",
  "TRAINING_MODEL",
  "SAVING_MODEL",
  "RETRYING",
  "SUCCESS",
  "FAILURE",
  "CANCELLED",
] as const;

/** A training task's status. */
export type TaskStatus = typeof TASK_STATUSES[number];

/** The statuses a task ends in; no change follows them. */
export const FINAL_STATUSES: ReadonlySet<TaskStatus> = new Set([
  "SUCCESS",
  "FAILURE",
  "CANCELLED",
]);

/** Options that shape one training run. */
export interface TrainingOptions {
  /** Passes over the training data. */
  epochs: number;
  /** Samples per gradient step. */
  batch_size: number;
  /** Adam learning rate. */
  learning_rate: number;
}

/** Training metrics reported while a model trains. */
export interface TrainingMetrics {
  /** Epochs completed. */
  epoch: number;
  /** Epochs planned. */
  epochs: number;
  /** Training loss (mean squared error on standardised values). */
  loss: number | null;
  /** Validation loss on the held-out most recent samples. */
  val_loss: number | null;
  /** Once trained: the holdout evaluation against the baselines. */
  evaluation?: unknown;
}

/** What `error_details` says about a failure: never a stack trace. */
export interface ErrorDetails {
  /** Machine-readable reason, such as `no_readings`. */
  code: string;
  /** The status the task was in when it failed. */
  stage: TaskStatus;
  /** What to do about it, in plain words. */
  hint: string;
}

/** The `result` of a successful task. */
export interface TaskResult {
  /** Always `success`. */
  status: "success";
  /** One-line summary. */
  message: string;
  /** Facts about the trained model. */
  details: {
    meter_id: string;
    meter_type: MeterType;
    data_points: number;
    model_path: string;
    training_completed: string;
    data_fetch_time_seconds: number;
    training_time_seconds: number;
    [key: string]: unknown;
  };
}

/** The task status object: the same shape from the status endpoint and in every status event. */
export interface Task extends MeterRef {
  task_id: string;
  status: TaskStatus;
  /** Integer 0 to 100 that never goes down. */
  progress: number;
  message: string;
  updated_at: string;
  estimated_completion: string | null;
  result: TaskResult | null;
  error: string | null;
  error_details: ErrorDetails | null;
  created_at: string;
  /** Delivery attempt of the training job, from 1. */
  attempt: number;
  options: TrainingOptions;
  metrics: TrainingMetrics | null;
  /** Who started it (the principal's name), when authentication is on. */
  requested_by?: string;
  /** The group it was started in (`POST /trainmodel/batch`), if any. */
  group_id?: string;
}

/** One entry of a task's event log: a status change and its event id. */
export interface TaskEvent {
  /** Increasing id in Redis stream form `<ms>-<seq>`. */
  id: string;
  /** The task's status after the change. */
  task: Task;
  /**
   * The event's place in the log of every task's events (`<ms>-<seq>`),
   * increasing in commit order across tasks; set on events the broker
   * publishes and on those read from that log.
   */
  seq?: string;
}

/** The job a worker runs for a task. */
export interface TrainingJob extends MeterRef {
  task_id: string;
  options: TrainingOptions;
  /**
   * The group it belongs to: the queue takes turns between groups, and
   * hands out single tasks before group tasks.
   */
  group_id?: string;
}

/** True when a task in this status can change no more. */
export function isFinal(status: TaskStatus): boolean {
  return FINAL_STATUSES.has(status);
}

const NEXT: Record<TaskStatus, readonly TaskStatus[]> = {
  PENDING: ["FETCHING_DATA"],
  FETCHING_DATA: ["PREPROCESSING"],
  PREPROCESSING: ["TRAINING_MODEL"],
  TRAINING_MODEL: ["TRAINING_MODEL", "SAVING_MODEL"],
  SAVING_MODEL: ["SUCCESS"],
  RETRYING: ["FETCHING_DATA"],
  SUCCESS: [],
  FAILURE: [],
  CANCELLED: [],
};

/**
 * True when a task may move from `from` to `to`: forward through the
 * pipeline, or from any non-final status to `RETRYING`, `FAILURE` or
 * `CANCELLED`.
 */
export function canMove(from: TaskStatus, to: TaskStatus): boolean {
  if (isFinal(from)) return false;
  if (to === "FAILURE" || to === "CANCELLED" || to === "RETRYING") {
    return true;
  }
  return NEXT[from].includes(to);
}
