/**
 * What happens to a job when it does not finish normally, in one place:
 *
 * | why it stopped                           | the job                     | the task          |
 * | ---------------------------------------- | --------------------------- | ----------------- |
 * | its task was cancelled (or ended)        | acknowledged                | as it is          |
 * | this runner is shutting down             | handed back, run again now  | `RETRYING` next   |
 * | its lease was lost to another runner     | left to that delivery       | as it is          |
 * | the broker stayed unreachable            | left; its lease runs out    | `RETRYING` later  |
 * | a known training problem (bad data…)     | acknowledged                | `FAILURE`, why    |
 * | anything else (a fault in the service)   | acknowledged                | `FAILURE`, plain  |
 * | delivered more than `maxAttempts` times  | acknowledged                | `FAILURE`         |
 *
 * A failure never carries a stack trace to the client: the known problems
 * have their own message and hint, anything else says it is a fault of the
 * service and the log has the details.
 *
 * @module
 */
import type { TaskStatus } from "../domain/task.ts";
import type { TaskChange } from "../tracker/tracker.ts";
import { TrainingError } from "../training/errors.ts";
import { BrokerTrouble } from "./durably.ts";

/** Why a runner stopped a job before it finished. */
export class JobStopped extends Error {
  /** Creates the stop reason. */
  constructor(readonly why: "cancelled" | "lease_lost" | "shutdown") {
    super(why);
    this.name = "JobStopped";
  }
}

/** What to do with a job that ended in an error. */
export type FailureDecision =
  | { action: "acknowledge" }
  | { action: "hand_back" }
  | { action: "leave"; reason: "lease_lost" | "broker_unreachable" }
  | { action: "fail" };

/** Decides what becomes of a job that threw `error`, stopped for `stopReason`. */
export function decideOnError(error: unknown, stopReason: unknown): FailureDecision {
  if (stopReason instanceof JobStopped) {
    if (stopReason.why === "cancelled") return { action: "acknowledge" };
    if (stopReason.why === "shutdown") return { action: "hand_back" };
    return { action: "leave", reason: "lease_lost" };
  }
  if (error instanceof BrokerTrouble) return { action: "leave", reason: "broker_unreachable" };
  return { action: "fail" };
}

/** The `FAILURE` report for an error raised while the task was in `stage`. */
export function failureChange(error: unknown, stage: TaskStatus, attempt: number): TaskChange {
  if (error instanceof TrainingError) {
    return {
      status: "FAILURE",
      attempt,
      error: error.message,
      error_details: { code: error.code, stage, hint: error.hint },
    };
  }
  return {
    status: "FAILURE",
    attempt,
    error: `Training failed unexpectedly while ${stageWords(stage)}.`,
    error_details: {
      code: "internal_error",
      stage,
      hint:
        "This is a fault in the service, not in your data; the service log has the details. Try again, and report it if it persists.",
    },
  };
}

/** True when an error is a fault of the service, worth logging in full. */
export function isUnexpected(error: unknown): boolean {
  return !(error instanceof TrainingError);
}

/** The `FAILURE` report of a job delivered more than `maxAttempts` times. */
export function attemptsExhaustedChange(maxAttempts: number, stage: TaskStatus): TaskChange {
  return {
    status: "FAILURE",
    error:
      `Training stopped after ${maxAttempts} attempts: the process training it stopped during training each time (the service was restarted or killed, or a worker crashed).`,
    error_details: {
      code: "attempts_exhausted",
      stage,
      hint:
        "Check the service's and the workers' logs for crashes or out-of-memory kills, then train again.",
    },
  };
}

/** The `RETRYING` report that opens attempt `attempt`. */
export function retryingChange(attempt: number, maxAttempts: number): TaskChange {
  return {
    status: "RETRYING",
    message:
      `Retrying (attempt ${attempt} of ${maxAttempts}): the process training it stopped before it finished`,
  };
}

function stageWords(stage: TaskStatus): string {
  return ({
    FETCHING_DATA: "fetching readings",
    PREPROCESSING: "preparing features",
    TRAINING_MODEL: "training the model",
    SAVING_MODEL: "saving the model",
  } as Partial<Record<TaskStatus, string>>)[stage] ?? "starting";
}
