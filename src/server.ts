/**
 * Runs the service around a broker: the task tracker, the event hub, the
 * HTTP API and (in embedded mode, or when asked) a job runner in the same
 * process, with training in Web Workers, and the webhook dispatcher.
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
import { openAuthenticator } from "./auth/open_authenticator.ts";
import { openLimits, type RedisRest } from "./limits/limits.ts";
import type { Authenticator } from "./auth/authenticator.ts";
import { createMetrics, type Metrics } from "./metrics/metrics.ts";
import { instrumentBroker } from "./broker/instrumented_broker.ts";
import { requestLog } from "./api/request_log.ts";
import { logger } from "./logging/logging.ts";
import { taskChangeLog } from "./logging/task_log.ts";
import { createDispatcher } from "./webhooks/dispatcher.ts";

/** A running service. */
export interface ServiceHandle {
  /** Base URL, such as `http://127.0.0.1:8000`. */
  url: string;
  /** The port listened on. */
  port: number;
  /** The in-process job runner, if any. */
  runner: JobRunner | null;
  /**
   * Stops accepting, tells every open stream to reconnect soon (a `retry:`
   * hint) and ends it, waits for the requests in flight (for most of
   * `SHUTDOWN_GRACE_SECONDS`), stops the runner and releases the broker.
   */
  close(): Promise<void>;
}

/** How to run the service. */
export interface ServiceOptions {
  /** Run training jobs in this process. */
  runJobs: boolean;
  /** Name of the mode for `/health`, such as `embedded`. */
  mode: string;
  /** Redis over REST for the limits, shared by every instance; null or absent: kept in process. */
  rest?: RedisRest | null;
  /**
   * The process's metrics, when made before the broker (to count its Redis
   * commands); absent: the service makes its own.
   */
  metrics?: Metrics;
  /** Called once listening, with what is worth a line at start-up (such as whether authentication is on). */
  onListen?(url: string, notes: string[]): void;
}

/** Starts the HTTP service (and a job runner when asked) on the broker. */
export async function startService(
  config: Config,
  store: Broker,
  options: ServiceOptions,
): Promise<ServiceHandle> {
  const metrics = options.metrics ?? createMetrics();
  // Every call into the broker is counted and timed, by operation.
  const broker = instrumentBroker(store, metrics.brokerCall);
  metrics.watchBroker(broker);
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
  const { auth, keySource } = await openAuthenticator(config);
  const limits = openLimits(config, options.rest ?? null);
  const httpLog = logger("http");
  // Every status change this process sees: counted by status, and a log
  // line (the hub's one subscription is shared with the streams). Start-up
  // waits for the feed a few seconds at most; the watcher stays registered
  // and counts once the feed is live.
  const logTaskChange = taskChangeLog(logger("tasks"));
  const webhookLog = logger("webhooks");
  const dispatcher = createDispatcher({
    broker,
    ...config.webhooks,
    onAttempt: (outcome) => metrics.webhookAttempt(outcome),
    // A placeholder value, not the template: the message holds outside text (braces too).
    warn: (message) => webhookLog.warn("{warning}", { warning: message }),
  });
  await withinMs(
    hub.watchAll({
      onEvent: (event) => {
        metrics.taskChanged(event.task);
        logTaskChange(event.task);
        dispatcher.wake(event);
      },
      // Events may have been missed: the dispatcher reads the log.
      onResync: () => dispatcher.wake(),
    }).catch((error) => {
      logger("tasks").warn(
        `Task status metrics and log lines are off: the event feed failed ({error})`,
        { error: String(error) },
      );
    }),
    TASK_FEED_WAIT_MS,
  );

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
    auth,
    streamTokenTimes: config.streamTokenTimes,
    queueBounds: config.queueBounds,
    limits,
    metrics,
    metricsToken: config.metricsToken,
    webhooks: config.webhooks,
    wakeWebhooks: () => dispatcher.wake(),
    requestLog: requestLog((message, fields) => httpLog.info(message, fields)),
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
  dispatcher.start();
  options.onListen?.(server.url, [
    ...await authNotes(auth, config, keySource),
    `metrics at /metrics${config.metricsToken ? " (with METRICS_TOKEN)" : ""}`,
    `webhooks${
      config.webhooks.secret ? "" : " (per-task notify: slack format only, no WEBHOOK_SECRET)"
    }${config.webhooks.allowPrivate ? " to private addresses too" : ""}`,
  ]);

  return {
    url: server.url,
    port: server.port,
    runner,
    async close() {
      // No new connection first (a reconnecting client must land on another
      // instance), then the streams (their clients reconnect elsewhere and
      // resume with Last-Event-ID), then the requests in flight are
      // answered, and only then go the models they may use.
      server.stopAccepting();
      streams.close(retryHintMs);
      // Most of the grace period for requests in flight; the rest for the broker.
      await server.close(Math.max(100, config.shutdownGraceMs * 0.8));
      await runner?.stop();
      await dispatcher.stop();
      await limits.close();
      forecaster.close();
      hub.close();
      await broker.close();
    },
  };
}

/**
 * The reconnection delay a stopping instance gives each stream: 0.5 to 1.5
 * s, spread so that its clients do not all land on the other instances in
 * the same instant.
 */
function retryHintMs(): number {
  return 500 + Math.floor(Math.random() * 1000);
}

/** Milliseconds start-up waits for the task event feed of the metrics and the task log. */
const TASK_FEED_WAIT_MS = 3000;

/** Resolves when `promise` settles or after `ms`, whichever comes first. */
async function withinMs(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** What the start-up line says of authentication; loudly when it is off beyond loopback. */
async function authNotes(
  auth: Authenticator,
  config: Config,
  keySource: "configured" | "data_dir" | "process",
): Promise<string[]> {
  if (!await auth.enabled()) {
    const loopback = ["127.0.0.1", "localhost", "::1"].includes(config.host);
    return [
      loopback
        ? "authentication off"
        : `authentication OFF on ${config.host}: anyone who can reach this port may use every meter (README: "Authentication and limits")`,
    ];
  }
  const ways = [
    ...(config.jwt?.secret ? ["HS256 JWTs"] : []),
    ...(config.jwt?.jwksUrl ? ["JWTs from the JWKS URL"] : []),
    "API keys",
  ];
  return [
    `authentication on (${ways.join(", ")})`,
    ...(keySource === "process"
      ? [
        "stream tokens are signed with a key of this process only: set STREAM_TOKEN_SECRET when several API instances serve the same clients",
      ]
      : []),
  ];
}
