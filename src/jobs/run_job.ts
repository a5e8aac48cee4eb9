/**
 * Runs one delivery of a training job: checks the task still wants it,
 * runs the stages in order under a kept lease, reports `SUCCESS` and
 * acknowledges the job; on any error, does what the failure policy decides.
 *
 * @module
 */
import type { Broker, JobDelivery } from "../broker/broker.ts";
import { isFinal } from "../domain/task.ts";
import type { ModelStore } from "../models/model_store.ts";
import type { TaskChange, TaskTracker } from "../tracker/tracker.ts";
import { durably } from "./durably.ts";
import {
  attemptsExhaustedChange,
  decideOnError,
  failureChange,
  isUnexpected,
  JobStopped,
  retryingChange,
} from "./failure_policy.ts";
import { successChange } from "./job_result.ts";
import { keepLease } from "./lease.ts";
import { inSpan } from "./job_tracing.ts";
import { createReporter } from "./reporter.ts";
import { fetchReadings, saveModel, type StageContext, train } from "./stages.ts";
import type { Trainer } from "./training_pool.ts";
import { logger } from "../logging/logging.ts";

const log = logger("jobs");

/**
 * How a delivery ended: `succeeded` (trained, `SUCCESS` reported), `failed`
 * (`FAILURE` reported), `skipped` (its task was already final, or out of
 * attempts), `handed_back` (stopped, back in the queue), `left` (the broker
 * could not be reached: retried when its lease runs out).
 */
export type JobOutcome = "succeeded" | "failed" | "skipped" | "handed_back" | "left";

/** Told how each delivery ended; a success with its `SUCCESS` change (its result's details). */
export type JobObserver = (outcome: JobOutcome, change?: TaskChange) => void;

/** What running a job needs. */
export interface RunJobOptions {
  broker: Broker;
  tracker: TaskTracker;
  models: ModelStore;
  trainer: Trainer;
  /** This runner's name in the queue. */
  consumer: string;
  leaseMs: number;
  maxAttempts: number;
  /** Logs every failure in full, not only unexpected ones. */
  debug: boolean;
  /** Told how each delivery ended. */
  onJob?: JobObserver;
}

/** Runs one delivery to its end; `controller` stops it early. */
export async function runJob(
  delivery: JobDelivery,
  controller: AbortController,
  options: RunJobOptions,
): Promise<void> {
  let change: TaskChange | undefined;
  // One span per delivery, the stages' spans inside it (OTEL_DENO=true; no-ops otherwise).
  const outcome = await inSpan("wattcast.training_job", {
    "wattcast.task_id": delivery.job.task_id,
    "wattcast.meter": `${delivery.job.meter_type}/${delivery.job.meter_id}`,
    "wattcast.attempt": delivery.attempt,
  }, async (span) => {
    const ended = await runDelivery(delivery, controller, options, (c) => change = c);
    span.setAttribute("wattcast.outcome", ended);
    return ended;
  });
  options.onJob?.(outcome, change);
}

async function runDelivery(
  delivery: JobDelivery,
  controller: AbortController,
  options: RunJobOptions,
  succeeded: (change: TaskChange) => void,
): Promise<JobOutcome> {
  const { broker, tracker, maxAttempts } = options;
  const { job, attempt } = delivery;
  const signal = controller.signal;
  const stopLease = keepLease({
    broker,
    delivery,
    consumer: options.consumer,
    leaseMs: options.leaseMs,
    onLost: () => controller.abort(new JobStopped("lease_lost")),
  });
  const reporter = createReporter(tracker, job.task_id, attempt, controller);
  const ctx: StageContext = { ...options, job, reporter, signal };
  const acknowledge = () => durably("Acknowledging a job", () => broker.ackJob(delivery));

  try {
    const current = await durably("Reading a task", () => tracker.get(job.task_id), signal);
    if (!current || isFinal(current.task.status)) {
      await acknowledge();
      return "skipped";
    }
    if (attempt > maxAttempts) {
      await reporter.report(attemptsExhaustedChange(maxAttempts, current.task.status));
      await acknowledge();
      return "skipped";
    }
    if (attempt > 1) await reporter.step(retryingChange(attempt, maxAttempts));

    const fetched = await inSpan("wattcast.fetch_readings", {}, () => fetchReadings(ctx));
    const trained = await inSpan(
      "wattcast.train",
      {
        "wattcast.readings": fetched.series.timestamps.length,
        "wattcast.epochs": job.options.epochs,
      },
      () => train(ctx, fetched.series),
    );
    const path = await inSpan("wattcast.save_model", {}, () => saveModel(ctx, trained.outcome));
    const success = successChange(job, trained.outcome, path, {
      fetchSeconds: fetched.seconds,
      trainingSeconds: trained.seconds,
    });
    // Not `step`: once SUCCESS is committed the runner, seeing a final
    // status, stops the job; that is its end, not an interruption.
    const reported = await reporter.report(success);
    if (!reported) signal.throwIfAborted();
    await acknowledge();
    succeeded(success);
    return "succeeded";
  } catch (error) {
    await reporter.settled();
    const decision = decideOnError(error, signal.reason);
    switch (decision.action) {
      case "acknowledge":
        await acknowledge().catch(() => {});
        return "skipped";
      case "hand_back":
        // Another runner (or this one, restarted) takes it at once.
        await broker.releaseJob(delivery, options.consumer).catch((e) =>
          log.error(
            `Could not hand task ${job.task_id} back; it is retried when its lease runs out: {error}`,
            { error: e, task_id: job.task_id },
          )
        );
        return "handed_back";
      case "leave":
        if (decision.reason === "broker_unreachable") {
          log.error(
            `Task ${job.task_id}: the broker could not be reached; leaving the job for another attempt: {error}`,
            { error, task_id: job.task_id },
          );
        }
        return "left";
      case "fail": {
        const stage = (await tracker.get(job.task_id).catch(() => null))?.task.status ?? "PENDING";
        if (isUnexpected(error) || options.debug) {
          log.error(`Training task ${job.task_id} failed: {error}`, {
            error,
            task_id: job.task_id,
          });
        }
        await durably(
          "Reporting a failure",
          () => tracker.update(job.task_id, failureChange(error, stage, attempt)),
        );
        await acknowledge();
        return "failed";
      }
    }
  } finally {
    stopLease();
  }
}
