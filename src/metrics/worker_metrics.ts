/**
 * A worker process's metrics (`deno task worker` with
 * `WORKER_METRICS_PORT`): jobs claimed and how they ended, jobs running,
 * training duration and epochs per second of the jobs it trained, its
 * calls into the broker and Redis commands, the queue as the broker tells
 * it, and the process's default metrics. A registry of its own, like the
 * API's (`metrics.ts`).
 *
 * @module
 */
import { Counter, Gauge, Registry } from "prom-client";
import { addBrokerMetrics, type BrokerMetrics } from "./broker_metrics.ts";
import { addWebhookMetrics, type WebhookMetrics } from "./webhook_metrics.ts";
import { addDefaultMetrics, addTrainingMetrics } from "./metrics.ts";
import type { Task } from "../domain/task.ts";

/** How a job ended, as the job runner tells it (`JobOutcome`). */
export type JobEnd = "succeeded" | "failed" | "skipped" | "handed_back" | "left";

/** A worker's metrics and the hooks that move them. */
export interface WorkerMetrics extends BrokerMetrics, WebhookMetrics {
  /** The registry behind the worker's `/metrics`. */
  readonly registry: Registry;
  /** The Prometheus text exposition of every metric. */
  render(): Promise<string>;
  /** Counts a job claimed from the queue. */
  claimed(): void;
  /** Counts a job ended; a success with its result (training time and epochs). */
  finished(outcome: JobEnd, success?: Pick<Task, "result">): void;
  /** Reads the jobs running now at each scrape. */
  watchRunning(active: () => number): void;
}

/** Creates a worker's metrics, in a registry of their own. */
export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  addDefaultMetrics(registry);
  const registers = [registry];
  const claimed = new Counter({
    name: "wattcast_worker_jobs_claimed_total",
    help: "Training jobs this worker claimed from the queue (reclaimed ones included).",
    registers,
  });
  const finished = new Counter({
    name: "wattcast_worker_jobs_finished_total",
    help:
      "Training jobs this worker ended, by outcome: succeeded, failed, skipped (task already final or out of attempts), handed_back (stopping), left (broker unreachable).",
    labelNames: ["outcome"] as const,
    registers,
  });
  let active: () => number = () => 0;
  new Gauge({
    name: "wattcast_worker_jobs_running",
    help: "Training jobs running in this worker now.",
    registers,
    collect() {
      this.set(active());
    },
  });
  const observeTraining = addTrainingMetrics(registry);
  return {
    ...addBrokerMetrics(registry),
    ...addWebhookMetrics(registry),
    registry,
    render: () => registry.metrics(),
    claimed() {
      claimed.inc();
    },
    finished(outcome, success) {
      finished.inc({ outcome });
      if (outcome === "succeeded" && success) observeTraining(success);
    },
    watchRunning(running) {
      active = running;
    },
  };
}
