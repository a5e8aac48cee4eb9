/**
 * The service's Prometheus metrics: one registry per app instance (not
 * prom-client's global one, so several apps in one process, as in tests,
 * keep separate counts), with the process's default metrics, and one small
 * method per place where something is counted. `GET /metrics` renders it
 * (`src/api/metrics_routes.ts`).
 *
 * Counts are this process's: tasks by status are the status changes its
 * event hub saw, so with several API instances each counts every task.
 *
 * @module
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Task, TaskEvent } from "../domain/task.ts";
import { addBrokerMetrics, type BrokerMetrics } from "./broker_metrics.ts";
import { addWebhookMetrics, type WebhookMetrics } from "./webhook_metrics.ts";

/** Why a request was refused by the limits (`src/api/rate_limit.ts`). */
export type RefusalReason = "rate" | "open_streams" | "unavailable";

/** One process's metrics and the hooks that move them. */
export interface Metrics extends BrokerMetrics, WebhookMetrics {
  /** The registry behind `/metrics`. */
  readonly registry: Registry;
  /** The Prometheus text exposition of every metric. */
  render(): Promise<string>;
  /** Counts an answered request (a stream: once it closed) and how long it took. */
  request(method: string, route: string, status: number, seconds: number): void;
  /** Counts an event stream opened; call the returned function once it closes. */
  streamOpened(): () => void;
  /**
   * Counts status events written to a stream opened at `openedAt` (epoch ms),
   * and observes the delivery delay of those committed while it was open
   * (replayed history is counted, not timed).
   */
  delivered(events: readonly TaskEvent[], openedAt: number): void;
  /** Counts a task status change seen by this process (and a finished run's training figures). */
  taskChanged(task: Task): void;
  /** Counts a request refused by the limits. */
  refused(kind: string, reason: RefusalReason): void;
}

const DURATION_BUCKETS = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  300,
  900,
  3600,
];
const DELAY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** prom-client's process metrics read from `/proc/self`, which Deno opens only with `--allow-all`. */
const PROC_METRICS = [
  "process_resident_memory_bytes",
  "process_virtual_memory_bytes",
  "process_heap_bytes",
  "process_open_fds",
  "process_max_fds",
];

let procReadable: boolean | undefined;

/** True when this process may read `/proc/self` (Linux, run with `--allow-all`). */
function canReadProc(): boolean {
  if (procReadable !== undefined) return procReadable;
  try {
    const path = "/proc/self/status";
    procReadable = Deno.build.os === "linux" &&
      Deno.permissions.querySync({ name: "read", path }).state === "granted" &&
      Deno.readTextFileSync(path).length > 0;
  } catch {
    procReadable = false;
  }
  return procReadable;
}

/**
 * prom-client's default metrics; where `/proc/self` cannot be read (the
 * service's tasks grant `--allow-read`, not `--allow-all`) the figures it
 * would read there are left out, not shown as 0, and resident memory
 * comes from Deno instead.
 */
export function addDefaultMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  if (Deno.build.os !== "linux" || canReadProc()) return;
  for (const name of PROC_METRICS) registry.removeSingleMetric(name);
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
    registers: [registry],
    collect() {
      this.set(Deno.memoryUsage().rss);
    },
  });
}

const TRAINING_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600];
const EPOCH_RATE_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 250, 1000];

/**
 * Adds the training histograms to `registry`; the returned function
 * observes a successful task's training time and epochs per second (from
 * its result's details).
 */
export function addTrainingMetrics(registry: Registry): (task: Pick<Task, "result">) => void {
  const training = new Histogram({
    name: "wattcast_training_duration_seconds",
    help: "Training time of successful tasks (training_time_seconds of their result).",
    buckets: TRAINING_BUCKETS,
    registers: [registry],
  });
  const epochRate = new Histogram({
    name: "wattcast_training_epochs_per_second",
    help: "Epochs per second of training, of successful tasks.",
    buckets: EPOCH_RATE_BUCKETS,
    registers: [registry],
  });
  return (task) => {
    const details = task.result?.details;
    const seconds = details?.training_time_seconds;
    if (typeof seconds !== "number" || !(seconds >= 0)) return;
    training.observe(seconds);
    const epochs = details!.epochs;
    if (typeof epochs === "number" && seconds > 0) epochRate.observe(epochs / seconds);
  };
}

/**
 * Methods counted by name; any other (a client may send any token, and
 * `Deno.serve` passes it on) counts as `other`, so that made-up methods do
 * not each add a series.
 */
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Creates the metrics of one app instance, in a registry of their own. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  addDefaultMetrics(registry);
  const registers = [registry];

  const requests = new Counter({
    name: "wattcast_http_requests_total",
    help: "HTTP requests answered, by method, route pattern and status.",
    labelNames: ["method", "route", "status"] as const,
    registers,
  });
  const durations = new Histogram({
    name: "wattcast_http_request_duration_seconds",
    help:
      "Time to answer HTTP requests, by method and route pattern; an event stream counts until it closed.",
    labelNames: ["method", "route"] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const openStreams = new Gauge({
    name: "wattcast_open_streams",
    help: "Event streams open now.",
    registers,
  });
  const delivered = new Counter({
    name: "wattcast_stream_events_delivered_total",
    help: "Task status events written to event streams (one per stream).",
    registers,
  });
  const delay = new Histogram({
    name: "wattcast_event_delivery_delay_seconds",
    help:
      "From a status change's commit (its updated_at) to its write on a stream, for events committed while the stream was open.",
    buckets: DELAY_BUCKETS,
    registers,
  });
  const statusChanges = new Counter({
    name: "wattcast_task_status_changes_total",
    help: "Task status changes seen by this process's event hub, by new status.",
    labelNames: ["status"] as const,
    registers,
  });
  const observeTraining = addTrainingMetrics(registry);
  const refusals = new Counter({
    name: "wattcast_rate_limit_refusals_total",
    help:
      "Requests refused by the limits, by kind (train, upload, forecast, stream) and reason (rate, open_streams, unavailable).",
    labelNames: ["kind", "reason"] as const,
    registers,
  });

  return {
    ...addBrokerMetrics(registry),
    ...addWebhookMetrics(registry),
    registry,
    render: () => registry.metrics(),
    request(given, route, status, seconds) {
      const method = KNOWN_METHODS.has(given) ? given : "other";
      requests.inc({ method, route, status: String(status) });
      durations.observe({ method, route }, seconds);
    },
    streamOpened() {
      openStreams.inc();
      let open = true;
      return () => {
        if (!open) return;
        open = false;
        openStreams.dec();
      };
    },
    delivered(events, openedAt) {
      if (events.length === 0) return;
      delivered.inc(events.length);
      const now = Date.now();
      for (const event of events) {
        const committed = Date.parse(event.task.updated_at);
        if (committed >= openedAt) delay.observe(Math.max(0, now - committed) / 1000);
      }
    },
    taskChanged(task) {
      statusChanges.inc({ status: task.status });
      if (task.status === "SUCCESS") observeTraining(task);
    },
    refused(kind, reason) {
      refusals.inc({ kind, reason });
    },
  };
}
