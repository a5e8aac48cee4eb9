/**
 * Starts a Wattcast API process: parses the configuration, connects the
 * broker and runs the service.
 *
 * - `deno task dev`: API and training in one process; embedded mode
 *   (SQLite under `DATA_DIR`) unless Redis is configured.
 * - `deno task start` (`--api-only`): an API instance alone, on Redis;
 *   training runs in `deno task worker` processes.
 *
 * @module
 */
import { ConfigError, parseConfig } from "./src/config.ts";
import { connectBroker } from "./src/connect_broker.ts";
import { StoreOpenError } from "./src/broker/sqlite_broker.ts";
import { startService } from "./src/server.ts";
import { closeLogging, logger, setUpLogging } from "./src/logging/logging.ts";
import { createMetrics } from "./src/metrics/metrics.ts";

const apiOnly = Deno.args.includes("--api-only");

const metrics = createMetrics();
let config, connection, logFormat;
try {
  config = parseConfig(Deno.env.toObject());
  // Before the broker, so that DEBUG=true shows its start too.
  logFormat = await setUpLogging({
    format: config.logFormat,
    file: config.logFile,
    dir: config.logDir,
    debug: config.debug,
  });
  connection = await connectBroker(config, {
    allowEmbedded: !apiOnly,
    allowLocalGateway: true,
    requiredFor: "an API instance alone (deno task start)",
    onRedisCommand: metrics.redisCommand,
  });
} catch (error) {
  if (!(error instanceof ConfigError || error instanceof StoreOpenError)) throw error;
  console.error(error.message);
  await closeLogging();
  Deno.exit(1);
}
const logTargets = [
  config.logFile,
  config.logDir && `${config.logDir}/energy_forecasting_<date>.log`,
];
const logNote = `${logFormat} logs${
  logTargets.some(Boolean) ? ` (also to ${logTargets.filter(Boolean).join(" and ")})` : ""
}`;

const starting = startService(config, connection.broker, {
  runJobs: !apiOnly,
  rest: connection.rest,
  metrics,
  mode: apiOnly ? "api" : connection.mode,
  onListen: (url, notes) =>
    console.log(
      `Wattcast ${apiOnly ? "API instance" : "service"} listening on ${url} (${
        [connection.description, ...notes, logNote].join("; ")
      })`,
    ),
});

// SIGTERM (or Ctrl-C): stop accepting, send each open stream a `retry:`
// hint and end it (clients resume on another instance with Last-Event-ID),
// and exit within SHUTDOWN_GRACE_SECONDS whatever is still open. Listened
// for while the service starts, so a signal right after the start-up line
// (or before it) stops it the same way instead of killing the process.
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, async () => {
    // Ctrl-C reaches both `deno task` and this process: one stop, one line.
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received; stopping.`);
    const deadline = setTimeout(() => {
      logger("server").error(
        `Not everything closed within ${
          config.shutdownGraceMs / 1000
        } s (SHUTDOWN_GRACE_SECONDS); exiting.`,
      );
      Deno.exit(1);
    }, config.shutdownGraceMs);
    await (await starting).close();
    await closeLogging();
    clearTimeout(deadline);
    Deno.exit(0);
  });
}

await starting;
