/**
 * The job runner: claims training jobs from the broker's queue, at most
 * `concurrency` at once, runs each (`run_job.ts`), and stops a job as soon
 * as its task is cancelled. Used in-process by embedded mode and by worker
 * processes.
 *
 * @module
 */
import type { Broker, JobDelivery, Unsubscribe } from "../broker/broker.ts";
import { isFinal } from "../domain/task.ts";
import type { ModelStore } from "../models/model_store.ts";
import type { TaskTracker } from "../tracker/tracker.ts";
import { JobStopped } from "./failure_policy.ts";
import { type JobObserver, runJob, type RunJobOptions } from "./run_job.ts";
import { createTrainingPool, type Trainer, type TrainingPool } from "./training_pool.ts";
import { logger } from "../logging/logging.ts";

const log = logger("jobs");

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
  /** Trains a model; by default a pool of `concurrency` training threads. */
  trainer?: Trainer;
  /** Logs unexpected errors in full. */
  debug?: boolean;
  /** Told of each job claimed. */
  onClaim?: (delivery: JobDelivery) => void;
  /** Told how each job ended. */
  onJob?: JobObserver;
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
  /** Training threads alive now, and started since the runner was made (null with a custom trainer). */
  threads(): { alive: number; started: number } | null;
}

/** Creates a job runner. */
export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const { broker } = options;
  const consumer = options.consumer ??
    `${Deno.hostname()}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const leaseMs = options.leaseMs ?? 30_000;
  // Made at the first training, closed at stop: threads live only while the runner runs.
  let pool: TrainingPool | null = null;
  let startedBefore = 0;
  const jobOptions: RunJobOptions = {
    broker,
    tracker: options.tracker,
    models: options.models,
    trainer: options.trainer ??
      ((series, meterType, trainingOptions, hooks, signal) =>
        (pool ??= createTrainingPool(options.concurrency)).train(
          series,
          meterType,
          trainingOptions,
          hooks,
          signal,
        )),
    consumer,
    leaseMs,
    maxAttempts: options.maxAttempts ?? 3,
    debug: options.debug ?? false,
    onJob: options.onJob,
  };
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
          options.onClaim?.(delivery);
          if (stopped) {
            // Stopped while claiming: hand it back for another runner.
            await broker.releaseJob(delivery, consumer);
            break;
          }
          launch(delivery);
        }
      } while (pumpAgain && !stopped);
    } catch (error) {
      log.error("Could not claim a training job; will try again: {error}", { error });
    } finally {
      pumping = false;
    }
  }

  function launch(delivery: JobDelivery): void {
    const controller = new AbortController();
    const entry = { controller, done: Promise.resolve() };
    running.set(delivery.job.task_id, entry);
    entry.done = runJob(delivery, controller, jobOptions)
      .catch((error) => log.error("A training job failed to finish: {error}", { error }))
      .finally(() => {
        running.delete(delivery.job.task_id);
        if (!stopped) pump();
      });
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
                new JobStopped("cancelled"),
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
      for (const job of running.values()) job.controller.abort(new JobStopped("shutdown"));
      await Promise.all(jobs.map((job) => job.done));
      cleanups.splice(0).forEach((cleanup) => cleanup());
      while (pumping) await new Promise((r) => setTimeout(r, 5));
      startedBefore += pool?.started() ?? 0;
      pool?.close();
      pool = null;
    },

    active() {
      return running.size;
    },

    threads() {
      if (options.trainer) return null;
      return { alive: pool?.threads() ?? 0, started: startedBefore + (pool?.started() ?? 0) };
    },
  };
}
