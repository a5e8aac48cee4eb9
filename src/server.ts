/**
 * Runs the service around a broker: the task tracker, the event hub, the
 * HTTP API and (in embedded mode, or when asked) a job runner in the same
 * process, with training in Web Workers.
 *
 * @module
 */
import { createApp } from "./api/app.ts";
import type { Broker } from "./broker/broker.ts";
import { createEventHub } from "./broker/event_hub.ts";
import type { Config } from "./config.ts";
import { seedDemoMeters } from "./meters/demo_meters.ts";
import { createModelStore } from "./models/model_store.ts";
import { createTracker } from "./tracker/tracker.ts";
import { createForecaster } from "./forecast/forecaster.ts";
import { createJobRunner, type JobRunner } from "./jobs/job_runner.ts";

/** A running service. */
export interface ServiceHandle {
  /** Base URL, such as `http://127.0.0.1:8000`. */
  url: string;
  /** The port listened on. */
  port: number;
  /** The in-process job runner, if any. */
  runner: JobRunner | null;
  /** Stops streams, the runner and the server; then releases the broker. */
  close(): Promise<void>;
}

/** How to run the service. */
export interface ServiceOptions {
  /** Run training jobs in this process. */
  runJobs: boolean;
  /** Name of the mode for `/health`, such as `embedded`. */
  mode: string;
  /** Called once listening. */
  onListen?(url: string): void;
}

/** Starts the HTTP service (and a job runner when asked) on the broker. */
export async function startService(
  config: Config,
  broker: Broker,
  options: ServiceOptions,
): Promise<ServiceHandle> {
  if (config.seedDemoMeters) await seedDemoMeters(broker);
  const tracker = createTracker(broker);
  const hub = createEventHub(broker);
  const models = createModelStore({ broker: broker, dataDir: config.dataDir });
  const runner = options.runJobs
    ? createJobRunner({
      broker,
      tracker,
      models,
      concurrency: config.trainingConcurrency,
      leaseMs: config.jobLeaseMs,
      maxAttempts: config.jobMaxAttempts,
      debug: config.debug,
    })
    : null;
  const closing = new AbortController();
  const forecaster = createForecaster({ broker, models });

  const app = createApp({
    broker,
    hub,
    tracker,
    models,
    forecaster,
    heartbeatMs: config.heartbeatMs,
    streamMaxMs: config.streamMaxMs,
    taskTtlSeconds: config.taskTtlSeconds,
    corsOrigin: config.corsOrigin,
    debug: config.debug,
    closing: closing.signal,
    info: { service: "wattcast", mode: options.mode },
    health: [
      {
        name: "event_streams",
        check: () => Promise.resolve({ open: hub.watchers() }),
      },
      {
        name: "broker",
        check: async () => {
          await broker.ping();
          return { kind: broker.kind, location: broker.location };
        },
      },
      {
        name: "model_store",
        check: async () => {
          await models.check();
          return { path: config.dataDir === null ? null : `${config.dataDir}/models` };
        },
      },
      ...(runner
        ? [{
          name: "job_runner",
          check: () =>
            Promise.resolve({
              active_jobs: runner.active(),
              concurrency: config.trainingConcurrency,
            }),
        }]
        : []),
    ],
  });

  await runner?.start();
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    port: config.port,
    hostname: config.host,
    onListen: resolve,
  }, app.fetch);
  const address = await listening;
  const host = address.hostname === "0.0.0.0" ? "127.0.0.1" : address.hostname;
  const url = `http://${host}:${address.port}`;
  options.onListen?.(url);

  return {
    url,
    port: address.port,
    runner,
    async close() {
      closing.abort();
      await runner?.stop();
      forecaster.close();
      await server.shutdown();
      hub.close();
      await broker.close();
    },
  };
}
