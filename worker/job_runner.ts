/**
 * The job runner: claims training jobs from the broker's queue, runs each
 * through the task tracker (fetch readings, prepare, train, save), renews
 * the job's lease while it runs, and stops a job as soon as its task is
 * cancelled. Used in-process by embedded mode and by worker processes.
 *
 * @module
 */
import type { Broker, JobDelivery, Unsubscribe } from "../src/broker/broker.ts";
import type { ModelStore } from "../src/models/model_store.ts";
import { isFinal, type Task } from "../src/domain/task.ts";
import { meterKey } from "../src/domain/meter.ts";
import type { TaskChange, TaskTracker } from "../src/tracker/tracker.ts";
import { TrainingError } from "../src/training/errors.ts";
import { estimateCompletion } from "./eta.ts";
import { type Trainer, trainInThread } from "./training_host.ts";

/** What the job runner needs. */
export interface JobRunnerOptions {
  broker: Broker;
  tracker: TaskTracker;
  models: ModelStore;
  /** Jobs run at once. */
  concurrency: number;
  /** Name of this runner in the queue. */
  consumer?: string;
  /** How long a claimed job stays this runner's without a renewal. */
  leaseMs?: number;
  /** Deliveries of one job before its task fails. */
  maxAttempts?: number;
  /** How often an idle runner looks for jobs whose lease ran out. */
  idleCheckMs?: number;
  /** Trains a model; a new Web Worker per job by default. */
  trainer?: Trainer;
  /** Logs unexpected errors in full. */
  debug?: boolean;
}

/** A running job runner. */
export interface JobRunner {
  /** Starts claiming jobs. */
  start(): Promise<void>;
  /**
   * Stops claiming; gives running jobs `graceMs` to finish, then stops them
   * and hands them back to the queue for another worker.
   */
  stop(graceMs?: number): Promise<void>;
  /** Jobs running now. */
  active(): number;
}

/** Progress reached at the start of each stage; training fills 15 to 90. */
export const STAGE_PROGRESS = {
  FETCHING_DATA: 5,
  PREPROCESSING: 10,
  TRAINING_MODEL: 15,
  TRAINING_DONE: 90,
  SAVING_MODEL: 92,
} as const;

class Stopped extends Error {
  constructor(readonly why: "cancelled" | "lease_lost" | "shutdown") {
    super(why);
  }
}

/** Creates a job runner. */
export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const { broker, tracker, models } = options;
  const consumer = options.consumer ??
    `${Deno.hostname()}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const leaseMs = options.leaseMs ?? 30_000;
  const maxAttempts = options.maxAttempts ?? 3;
  const trainer = options.trainer ?? trainInThread;
  const running = new Map<
    string,
    { controller: AbortController; done: Promise<void> }
  >();
  const cleanups: Unsubscribe[] = [];
  let idleTimer: ReturnType<typeof setInterval> | undefined;
  let stopped = true;
  let pumping = false;
  let pumpAgain = false;

  async function pump(): Promise<void> {
    if (pumping) {
      pumpAgain = true;
      return;
    }
    pumping = true;
    try {
      do {
        pumpAgain = false;
        while (!stopped && running.size < options.concurrency) {
          const delivery = await broker.claimJob(consumer, leaseMs);
          if (!delivery) break;
          launch(delivery);
        }
      } while (pumpAgain && !stopped);
    } catch (error) {
      console.error("Could not claim a training job; will try again:", error);
    } finally {
      pumping = false;
    }
  }

  function launch(delivery: JobDelivery): void {
    const controller = new AbortController();
    const entry = { controller, done: Promise.resolve() };
    running.set(delivery.job.task_id, entry);
    entry.done = run(delivery, controller)
      .catch((error) => console.error("A training job failed to finish:", error))
      .finally(() => {
        running.delete(delivery.job.task_id);
        if (!stopped) pump();
      });
  }

  async function run(
    delivery: JobDelivery,
    controller: AbortController,
  ): Promise<void> {
    const { job, attempt } = delivery;
    const signal = controller.signal;
    const renew = setInterval(async () => {
      try {
        if (!await broker.renewLease(delivery, consumer)) {
          controller.abort(new Stopped("lease_lost"));
        }
      } catch (error) {
        console.error(
          `Could not renew the lease of task ${job.task_id}:`,
          error,
        );
      }
    }, Math.max(50, leaseMs / 3));

    // Reports run in order; each rides out a broker restart with retries.
    // A progress report that still fails is skipped (the next one carries
    // newer progress); a stage change that fails stops the job unacknowledged,
    // so its lease runs out and another attempt runs it.
    let reports = Promise.resolve<Task | null>(null);
    const report = (change: TaskChange, essential = true): Promise<Task | null> => {
      const next = reports.then(async () => {
        if (signal.aborted) return null;
        const task = await durably(
          `Reporting ${change.status} for task ${job.task_id}`,
          () => tracker.update(job.task_id, { ...change, attempt }),
          signal,
        );
        if (!task) controller.abort(new Stopped("cancelled"));
        return task;
      });
      reports = essential ? next : next.catch((error) => {
        console.warn(`Skipped a progress report of task ${job.task_id}: ${error}`);
        return null;
      });
      return next;
    };
    const step = async (change: TaskChange) => {
      await report(change);
      signal.throwIfAborted();
    };

    try {
      const current = await durably("Reading a task", () => tracker.get(job.task_id), signal);
      if (!current || isFinal(current.task.status)) {
        await broker.ackJob(delivery);
        return;
      }
      if (attempt > maxAttempts) {
        await report({
          status: "FAILURE",
          error:
            `Training stopped after ${maxAttempts} attempts: the worker running it stopped each time.`,
          error_details: {
            code: "attempts_exhausted",
            stage: current.task.status,
            hint: "Check the workers' logs for crashes or out-of-memory kills, then train again.",
          },
        });
        await broker.ackJob(delivery);
        return;
      }
      if (attempt > 1) {
        await step({
          status: "RETRYING",
          message: `Retrying (attempt ${attempt} of ${maxAttempts}): the previous worker stopped`,
        });
      }

      await step({
        status: "FETCHING_DATA",
        progress: STAGE_PROGRESS.FETCHING_DATA,
      });
      const fetchStart = performance.now();
      const series = await durably("Fetching readings", () => broker.getReadings(job), signal);
      const fetchSeconds = (performance.now() - fetchStart) / 1000;
      if (!series || series.timestamps.length === 0) {
        throw new TrainingError(
          "no_readings",
          `No readings are stored for ${meterKey(job)}.`,
          "Upload the meter's hourly readings, then train again.",
        );
      }

      await step({
        status: "PREPROCESSING",
        progress: STAGE_PROGRESS.PREPROCESSING,
        message: `Preparing features from ${series.timestamps.length} readings`,
      });
      const trainStart = performance.now();
      const trainStartWall = Date.now();
      const span = STAGE_PROGRESS.TRAINING_DONE - STAGE_PROGRESS.TRAINING_MODEL;
      const outcome = await trainer(series, job.meter_type, job.options, {
        onPrepared: (info) =>
          void report({
            status: "TRAINING_MODEL",
            progress: STAGE_PROGRESS.TRAINING_MODEL,
            message: `Training model on ${info.samples} samples (epoch 0/${job.options.epochs})`,
          }, false),
        onEpoch: (metrics) =>
          void report({
            status: "TRAINING_MODEL",
            progress: STAGE_PROGRESS.TRAINING_MODEL +
              (span * metrics.epoch) / metrics.epochs,
            message: `Training model (epoch ${metrics.epoch}/${metrics.epochs})`,
            metrics,
            estimated_completion: estimateCompletion(
              trainStartWall,
              metrics.epoch,
              metrics.epochs,
              Date.now(),
            ),
          }, false),
      }, signal);
      await reports;
      signal.throwIfAborted();
      const trainingSeconds = (performance.now() - trainStart) / 1000;

      const evaluation = outcome.evaluation;
      await step({
        status: "SAVING_MODEL",
        progress: STAGE_PROGRESS.SAVING_MODEL,
        message: `Saving model (holdout CV(RMSE) ${
          pct(evaluation.model.cv_rmse)
        }; persistence ensemble ${pct(evaluation.persistence_ensemble.cv_rmse)})`,
        metrics: { ...outcome.model.metadata.metrics, evaluation },
      });
      const path = await models.save(job, outcome.model);
      const served = evaluation.served === "model"
        ? `Model trained and saved at ${path}`
        : `Model trained and saved at ${path}, but it does not beat the persistence ensemble on the holdout (CV(RMSE) ${
          pct(evaluation.model.cv_rmse)
        } vs ${
          pct(evaluation.persistence_ensemble.cv_rmse)
        }): forecasts use the persistence ensemble`;
      await step({
        status: "SUCCESS",
        message: served,
        metrics: { ...outcome.model.metadata.metrics, evaluation },
        result: {
          status: "success",
          message: served,
          details: {
            meter_id: job.meter_id,
            meter_type: job.meter_type,
            data_points: outcome.dataPoints,
            model_path: path,
            training_completed: new Date().toISOString(),
            data_fetch_time_seconds: round(fetchSeconds, 3),
            training_time_seconds: round(trainingSeconds, 3),
            samples: outcome.samples,
            unusual_working_days_left_out: outcome.unusualWorkingDays,
            epochs: outcome.model.metadata.metrics.epoch,
            final_loss: outcome.model.metadata.metrics.loss,
            final_val_loss: outcome.model.metadata.metrics.val_loss,
            backend: outcome.model.metadata.backend,
            served: evaluation.served,
            metrics: evaluation,
            ashrae_guideline_14: evaluation.ashrae_guideline_14,
            cleaning: outcome.cleaning,
          },
        },
      });
      await durably("Acknowledging a job", () => broker.ackJob(delivery));
    } catch (error) {
      await reports.catch(() => null);
      const why = signal.reason instanceof Stopped ? signal.reason.why : null;
      if (why === "cancelled") {
        await durably("Acknowledging a job", () => broker.ackJob(delivery)).catch(() => {});
        return;
      }
      if (why === "shutdown") {
        // Hand it back: another worker restarts it at once.
        await broker.releaseJob(delivery, consumer).catch((e) =>
          console.error(
            `Could not hand task ${job.task_id} back; it is retried when its lease runs out:`,
            e,
          )
        );
        return;
      }
      if (why) return; // lease lost: another delivery runs it
      if (!(error instanceof TrainingError) && isBrokerTrouble(error)) {
        console.error(
          `Task ${job.task_id}: the broker could not be reached; leaving the job for another attempt:`,
          error,
        );
        return;
      }
      const current = await tracker.get(job.task_id).catch(() => null);
      const stage = current?.task.status ?? "PENDING";
      const known = error instanceof TrainingError;
      if (!known || options.debug) {
        console.error(`Training task ${job.task_id} failed:`, error);
      }
      await durably("Reporting a failure", () =>
        tracker.update(job.task_id, {
          status: "FAILURE",
          attempt,
          error: known ? error.message : `Training failed unexpectedly while ${stageWords(stage)}.`,
          error_details: known ? { code: error.code, stage, hint: error.hint } : {
            code: "internal_error",
            stage,
            hint:
              "This is a fault in the service, not in your data; the service log has the details. Try again, and report it if it persists.",
          },
        }));
      await durably("Acknowledging a job", () => broker.ackJob(delivery));
    } finally {
      clearInterval(renew);
    }
  }

  return {
    async start() {
      if (!stopped) return;
      stopped = false;
      cleanups.push(
        await broker.subscribe({
          onEvent: ({ task }) => {
            if (isFinal(task.status)) {
              running.get(task.task_id)?.controller.abort(
                new Stopped("cancelled"),
              );
            }
          },
        }),
        await broker.onJobQueued(() => void pump()),
      );
      // Idle, look now and then for jobs whose worker vanished (pub/sub wakes
      // us for new ones): a third of the lease, at most every 5 s.
      const idleCheckMs = options.idleCheckMs ?? Math.min(5000, Math.max(500, leaseMs / 3));
      idleTimer = setInterval(() => void pump(), idleCheckMs);
      await pump();
    },

    async stop(graceMs = 0) {
      stopped = true;
      clearInterval(idleTimer);
      const jobs = [...running.values()];
      if (graceMs > 0 && jobs.length) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          Promise.all(jobs.map((job) => job.done)),
          new Promise((r) => timer = setTimeout(r, graceMs)),
        ]);
        clearTimeout(timer);
      }
      for (const job of running.values()) job.controller.abort(new Stopped("shutdown"));
      await Promise.all(jobs.map((job) => job.done));
      cleanups.splice(0).forEach((cleanup) => cleanup());
      while (pumping) await new Promise((r) => setTimeout(r, 5));
    },

    active() {
      return running.size;
    },
  };
}

/** Errors from reaching the broker, as opposed to errors in the job itself. */
class BrokerTrouble extends Error {}

function isBrokerTrouble(error: unknown): boolean {
  return error instanceof BrokerTrouble;
}

/**
 * Runs a broker call, retrying with backoff (about 20 s in all) so a Redis
 * or gateway restart does not fail the job.
 */
async function durably<T>(what: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isTransient(error) || attempt >= 7 || signal?.aborted) {
        throw isTransient(error) ? new BrokerTrouble(`${what} failed: ${error}`) : error;
      }
      await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 5000)));
    }
  }
}

/** Failures of the transport or of Redis being away, worth retrying. */
function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof TrainingError || error.message.includes("cannot move from")) return false;
  return /fetch|network|connect|ECONN|EPIPE|socket|closed|reset|timed? ?out|LOADING|Unable to parse response|Connection is closed|gateway|Stream isn't writeable/i
    .test(`${error.name} ${error.message}`);
}

function pct(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function stageWords(stage: string): string {
  return {
    FETCHING_DATA: "fetching readings",
    PREPROCESSING: "preparing features",
    TRAINING_MODEL: "training the model",
    SAVING_MODEL: "saving the model",
  }[stage] ?? "starting";
}
