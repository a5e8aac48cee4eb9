/**
 * `deno task worker`: a training worker process. Claims jobs from the Redis
 * queue, trains (`WORKER_CONCURRENCY` at once, each in a Web Worker) and
 * reports through the task tracker. On SIGTERM it stops taking jobs, gives
 * running ones `WORKER_SHUTDOWN_GRACE_SECONDS` to finish, and hands the rest
 * back so another worker restarts them at once. It also sends due webhook
 * deliveries (`src/webhooks/dispatcher.ts`).
 *
 * @module
 */
import { ConfigError, parseConfig } from "../src/config.ts";
import { connectBroker } from "../src/connect_broker.ts";
import { createModelStore } from "../src/models/model_store.ts";
import { createTracker } from "../src/tracker/tracker.ts";
import { createJobRunner } from "../src/jobs/job_runner.ts";
import { createDispatcher } from "../src/webhooks/dispatcher.ts";
import { instrumentBroker } from "../src/broker/instrumented_broker.ts";
import { createWorkerMetrics } from "../src/metrics/worker_metrics.ts";
import { serveWorkerMetrics } from "./metrics_server.ts";
import { closeLogging, logger, setUpLogging } from "../src/logging/logging.ts";

const metrics = createWorkerMetrics();
let config, connection;
try {
  config = parseConfig(Deno.env.toObject());
  await setUpLogging({
    format: config.logFormat,
    file: config.logFile,
    dir: config.logDir,
    debug: config.debug,
  });
  connection = await connectBroker(config, {
    allowEmbedded: false,
    allowLocalGateway: false,
    requiredFor: "a worker (deno task worker)",
    onRedisCommand: metrics.redisCommand,
  });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  await closeLogging();
  Deno.exit(1);
}

// Every call into the broker is counted and timed, by operation.
const broker = instrumentBroker(connection.broker, metrics.brokerCall);
metrics.watchBroker(broker);
const runner = createJobRunner({
  broker,
  tracker: createTracker(broker),
  models: createModelStore({ broker: broker, dataDir: config.dataDir }),
  concurrency: config.workerConcurrency,
  leaseMs: config.jobLeaseMs,
  maxAttempts: config.jobMaxAttempts,
  debug: config.debug,
  onClaim: () => metrics.claimed(),
  onJob: (outcome, change) =>
    metrics.finished(outcome, change && { result: change.result ?? null }),
});
metrics.watchRunning(() => runner.active());
const metricsServer = config.workerMetricsPort === null ? null : await serveWorkerMetrics(
  metrics,
  { hostname: config.host, port: config.workerMetricsPort, token: config.metricsToken },
);
await runner.start();
// Workers send due webhook deliveries too, so notifications go out while no API instance runs.
const dispatcher = createDispatcher({
  broker,
  ...config.webhooks,
  onAttempt: (outcome) => metrics.webhookAttempt(outcome),
  // A placeholder value, not the template: the message holds outside text (braces too).
  warn: (message) => logger("webhooks").warn("{warning}", { warning: message }),
});
dispatcher.start();
console.log(
  `Wattcast worker ${Deno.pid} running ${config.workerConcurrency} job(s) at once (${connection.description}${
    metricsServer ? `; metrics at ${metricsServer.url}/metrics` : ""
  })`,
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, async () => {
    if (stopping) return;
    stopping = true;
    console.log(
      `${signal} received; finishing running jobs (up to ${
        config.workerShutdownGraceMs / 1000
      } s), then handing the rest back.`,
    );
    await runner.stop(config.workerShutdownGraceMs);
    await dispatcher.stop();
    await metricsServer?.close();
    await broker.close();
    await closeLogging();
    Deno.exit(0);
  });
}
