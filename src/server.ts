/**
 * Runs the service around a broker: the task tracker, the event hub, the
 * HTTP API and (in embedded mode, or when asked) a job runner in the same
 * process, with training in Web Workers.
 *
 * @module
 */
import { createApp } from "./api/app.ts";
import { createOpenStreams } from "./api/open_streams.ts";
import { defaultMaxConnections, serveApp } from "./http_server.ts";
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
  const maxConnections = config.maxConnections ?? defaultMaxConnections();
  const maxStreams = config.maxStreams ?? Math.max(1, Math.floor(maxConnections * 0.9));
  const streams = createOpenStreams({
    heartbeatMs: config.heartbeatMs,
    streamMaxMs: config.streamMaxMs,
  });
  const forecaster = createForecaster({ broker, models });

  const app = createApp({
    broker,
    hub,
    tracker,
    models,
    forecaster,
    streams,
    maxBufferedBytes: config.streamBufferBytes,
    // A client that has not taken its buffered bytes in a heartbeat interval is gone or stuck.
    stallMs: Math.max(config.heartbeatMs, 1000),
    gzip: config.streamGzip,
    maxStreams,
    taskTtlSeconds: config.taskTtlSeconds,
    readingsSpan: { earliest: config.readingsEarliest, maxDaysAhead: config.readingsMaxDaysAhead },
    corsOrigin: config.corsOrigin,
    debug: config.debug,
    info: { service: "wattcast", mode: options.mode },
    health: [
      {
        name: "event_streams",
        check: () =>
          Promise.resolve({
            open: streams.count(),
            max: maxStreams,
            dropped_slow_clients: streams.droppedSlow(),
            http_server: config.httpServer,
            // Asked only once listening: no request comes before.
            connections: server.connections(),
          }),
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
              training_threads: runner.threads(),
            }),
        }]
        : []),
    ],
  });

  const server = await serveApp(app, {
    kind: config.httpServer,
    port: config.port,
    hostname: config.host,
    limits: {
      maxConnections,
      headersTimeoutMs: config.headersTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    },
  });
  // Only once listening: a process that cannot listen claims no job.
  await runner?.start();
  options.onListen?.(server.url);

  return {
    url: server.url,
    port: server.port,
    runner,
    async close() {
      // Streams first (their clients reconnect elsewhere), then the requests
      // in flight are answered, and only then go the models they may use.
      streams.close();
      await server.close();
      await runner?.stop();
      forecaster.close();
      hub.close();
      await broker.close();
    },
  };
}
