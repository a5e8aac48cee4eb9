/**
 * Training threads: a pool of at most `size` Web Workers
 * (`worker/training_thread.ts`), kept warm between jobs.
 *
 * Cancelling a training asks its thread to stop after the current batch;
 * the caller is answered at once, and the thread takes the next job once it
 * has stopped. Only a thread that does not stop within `abortGraceMs` is
 * terminated. So a cancel never starts or stops a thread, and at most
 * `size` threads exist at any time: a job waits for a free one. A thread
 * idle for `idleMs` ends, and one that ran `maxJobsPerThread` jobs is
 * replaced, so nothing held by one training lingers for ever.
 *
 * @module
 */
import type { ReadingSeries } from "../domain/series.ts";
import type { MeterType } from "../domain/meter.ts";
import type { TrainingOptions } from "../domain/task.ts";
import { TrainingError } from "../training/errors.ts";
import type { TrainHooks, TrainOutcome } from "../training/train.ts";
import type { ThreadMessage, ToThread } from "./thread_messages.ts";

/** Trains a model for some readings; the job runner's view of training. */
export type Trainer = (
  series: ReadingSeries,
  meterType: MeterType,
  options: TrainingOptions,
  hooks: TrainHooks,
  signal: AbortSignal,
) => Promise<TrainOutcome>;

/** Tuning of a pool; defaults suit production. */
export interface TrainingPoolOptions {
  /** How long a cancelled training may take to stop before its thread is terminated. */
  abortGraceMs?: number;
  /** How long an idle thread is kept. */
  idleMs?: number;
  /** Jobs one thread runs before it is replaced. */
  maxJobsPerThread?: number;
}

/** A pool of training threads. */
export interface TrainingPool {
  /** Trains on a free thread (waiting for one when all are busy). */
  train: Trainer;
  /** Threads alive now. */
  threads(): number;
  /** Threads started since the pool was made. */
  started(): number;
  /** Terminates every thread; waiting trainings are refused. */
  close(): void;
}

interface Thread {
  worker: Worker;
  jobs: number;
  idleTimer?: ReturnType<typeof setTimeout>;
  /** Terminates the thread if its cancelled training does not stop in time. */
  stopTimer?: ReturnType<typeof setTimeout>;
  /** Receives the thread's messages for the job it runs. */
  onMessage?: (message: ThreadMessage) => void;
  onCrash?: (message: string) => void;
}

type Waiter = { take(thread: Thread): void; refuse(reason: unknown): void };

/** Makes a pool of at most `size` training threads. */
export function createTrainingPool(size: number, options: TrainingPoolOptions = {}): TrainingPool {
  const abortGraceMs = options.abortGraceMs ?? 5_000;
  const idleMs = options.idleMs ?? 60_000;
  const maxJobsPerThread = options.maxJobsPerThread ?? 50;
  const threads = new Set<Thread>();
  const idle: Thread[] = [];
  const waiters: Waiter[] = [];
  let started = 0;
  let closed = false;

  function spawn(): Thread {
    const worker = new Worker(new URL("../../worker/training_thread.ts", import.meta.url), {
      type: "module",
    });
    const thread: Thread = { worker, jobs: 0 };
    worker.onmessage = (event: MessageEvent<ThreadMessage>) => thread.onMessage?.(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      thread.onCrash?.(event.message);
      end(thread);
    };
    threads.add(thread);
    started++;
    return thread;
  }

  /** Terminates a thread and lets a waiting job start one in its place. */
  function end(thread: Thread): void {
    if (!threads.delete(thread)) return;
    clearTimeout(thread.idleTimer);
    clearTimeout(thread.stopTimer);
    thread.onCrash?.("its training pool closed"); // a training still running learns of it
    const at = idle.indexOf(thread);
    if (at >= 0) idle.splice(at, 1);
    thread.worker.terminate();
    if (!closed) waiters.shift()?.take(spawn());
  }

  /** A thread finished its job: to the next waiting job, or idle. */
  function release(thread: Thread): void {
    thread.onMessage = thread.onCrash = undefined;
    if (++thread.jobs >= maxJobsPerThread || closed) return end(thread);
    const waiter = waiters.shift();
    if (waiter) return waiter.take(thread);
    idle.push(thread);
    thread.idleTimer = setTimeout(() => end(thread), idleMs);
  }

  function acquire(signal: AbortSignal): Promise<Thread> {
    if (closed) return Promise.reject(new Error("The training pool is closed."));
    const ready = idle.pop();
    if (ready) {
      clearTimeout(ready.idleTimer);
      return Promise.resolve(ready);
    }
    if (threads.size < size) return Promise.resolve(spawn());
    return new Promise<Thread>((resolve, reject) => {
      const waiter: Waiter = {
        take(thread) {
          signal.removeEventListener("abort", onAbort);
          if (signal.aborted) return release(thread);
          resolve(thread);
        },
        refuse: reject,
      };
      const onAbort = () => {
        const at = waiters.indexOf(waiter);
        if (at >= 0) waiters.splice(at, 1);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      waiters.push(waiter);
    });
  }

  async function train(
    series: ReadingSeries,
    meterType: MeterType,
    trainingOptions: TrainingOptions,
    hooks: TrainHooks,
    signal: AbortSignal,
  ): Promise<TrainOutcome> {
    signal.throwIfAborted();
    const thread = await acquire(signal);
    if (signal.aborted) {
      // Cancelled while the thread was handed over: an abort listener
      // added now would never fire, so the job would train to its end.
      release(thread);
      throw signal.reason;
    }
    const { promise, resolve, reject } = Promise.withResolvers<TrainOutcome>();
    const onAbort = () => {
      reject(signal.reason);
      thread.worker.postMessage({ type: "abort" } satisfies ToThread);
      thread.stopTimer = setTimeout(() => end(thread), abortGraceMs);
    };
    /** The thread is done with this job, whatever the outcome. */
    const finished = () => {
      signal.removeEventListener("abort", onAbort);
      clearTimeout(thread.stopTimer);
      release(thread);
    };
    thread.onMessage = (message) => {
      try {
        if (message.type === "prepared") hooks.onPrepared?.(message);
        else if (message.type === "epoch") hooks.onEpoch?.(message.metrics);
        else {
          finished();
          if (message.type === "done") resolve(message.outcome);
          else if (message.type === "aborted") reject(signal.reason);
          else if (message.code) {
            reject(new TrainingError(message.code, message.message, message.hint ?? ""));
          } else {
            const error = new Error(`Training thread failed: ${message.message}`);
            if (message.stack) {
              error.stack = `${error.message}\nIn the training thread: ${message.stack}`;
            }
            reject(error);
          }
        }
      } catch (error) {
        reject(error);
      }
    };
    thread.onCrash = (message) => {
      signal.removeEventListener("abort", onAbort);
      reject(new Error(`Training thread crashed: ${message}`));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    thread.worker.postMessage(
      { type: "train", series, meterType, options: trainingOptions } satisfies ToThread,
    );
    return await promise;
  }

  return {
    train,
    threads: () => threads.size,
    started: () => started,
    close() {
      closed = true;
      for (const waiter of waiters.splice(0)) {
        waiter.refuse(new Error("The training pool is closed."));
      }
      for (const thread of [...threads]) end(thread);
    },
  };
}
