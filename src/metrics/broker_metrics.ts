/**
 * The broker's metrics, shared by the API's and the workers' registries:
 * calls into the broker port by operation (their errors and durations),
 * the commands the Redis broker sends, and, read from the broker at each
 * scrape, tasks by status and the job queue's depth and oldest job.
 *
 * @module
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Broker, BrokerStats } from "../broker/broker.ts";
import { TASK_STATUSES } from "../domain/task.ts";

/** The hooks that move the broker's metrics. */
export interface BrokerMetrics {
  /** Counts a finished call into the broker port (`instrumentBroker`'s observer). */
  brokerCall(operation: string, seconds: number, failed: boolean): void;
  /** Counts a command sent to Redis (the Redis broker's `onCommand`). */
  redisCommand(command: string, failed: boolean): void;
  /**
   * Reads tasks by status and the queue from `broker` at each scrape (the
   * gauges share one `stats()` call).
   */
  watchBroker(broker: Pick<Broker, "stats">): void;
}

const CALL_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Adds the broker's metrics to `registry`. */
export function addBrokerMetrics(registry: Registry): BrokerMetrics {
  const registers = [registry];
  const calls = new Counter({
    name: "wattcast_broker_calls_total",
    help: "Calls into the broker (memory, SQLite or Redis), by operation.",
    labelNames: ["operation"] as const,
    registers,
  });
  const errors = new Counter({
    name: "wattcast_broker_errors_total",
    help: "Calls into the broker that failed, by operation.",
    labelNames: ["operation"] as const,
    registers,
  });
  const durations = new Histogram({
    name: "wattcast_broker_call_duration_seconds",
    help: "Time of calls into the broker, by operation.",
    labelNames: ["operation"] as const,
    buckets: CALL_BUCKETS,
    registers,
  });
  const commands = new Counter({
    name: "wattcast_redis_commands_total",
    help: "Commands sent to Redis through @upstash/redis, by command (scripts by name).",
    labelNames: ["command"] as const,
    registers,
  });
  const commandErrors = new Counter({
    name: "wattcast_redis_command_errors_total",
    help: "Commands sent to Redis that failed, by command.",
    labelNames: ["command"] as const,
    registers,
  });

  let source: Pick<Broker, "stats"> | null = null;
  // The gauges of one scrape are collected together: they share the one
  // `stats()` call in flight.
  let inFlight: Promise<BrokerStats | null> | null = null;
  const read = (): Promise<BrokerStats | null> => {
    if (!source) return Promise.resolve(null);
    // A broker that does not answer leaves the gauges empty for this scrape
    // (its error is counted by the broker's own metrics), not a failed scrape.
    return inFlight ??= source.stats().catch(() => null).finally(() => {
      inFlight = null;
    });
  };
  new Gauge({
    name: "wattcast_tasks",
    help:
      "Tasks kept by the broker (not expired), by status; on Redis, of the newest 2,000 (the queue gauges count every job).",
    labelNames: ["status"] as const,
    registers,
    async collect() {
      const stats = await read();
      this.reset();
      if (!stats) return;
      for (const status of TASK_STATUSES) this.set({ status }, stats.tasks[status] ?? 0);
    },
  });
  new Gauge({
    name: "wattcast_queue_jobs",
    help:
      "Training jobs in the queue, not yet acknowledged: waiting for a worker, or delivered to one (being trained, or handed back).",
    labelNames: ["state"] as const,
    registers,
    async collect() {
      const stats = await read();
      this.reset();
      if (!stats) return;
      this.set({ state: "waiting" }, stats.queuedJobs - stats.deliveredJobs);
      this.set({ state: "delivered" }, stats.deliveredJobs);
    },
  });
  new Gauge({
    name: "wattcast_queue_oldest_job_age_seconds",
    help: "Age of the oldest job in the queue (0 when it is empty).",
    registers,
    async collect() {
      const stats = await read();
      this.reset();
      if (!stats) return;
      this.set(stats.oldestJobMs === null ? 0 : Math.max(0, Date.now() - stats.oldestJobMs) / 1000);
    },
  });

  return {
    brokerCall(operation, seconds, failed) {
      calls.inc({ operation });
      durations.observe({ operation }, seconds);
      if (failed) errors.inc({ operation });
    },
    redisCommand(command, failed) {
      commands.inc({ command });
      if (failed) commandErrors.inc({ command });
    },
    watchBroker(broker) {
      source = broker;
    },
  };
}
