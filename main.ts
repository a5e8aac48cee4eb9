/**
 * Starts Wattcast: parses the configuration, picks the broker and runs the
 * service. With no Redis configured this is embedded mode: API and job
 * runner in one process, an in-memory broker, training in Web Workers.
 *
 * @module
 */
import { ConfigError, parseConfig } from "./src/config.ts";
import { createMemoryBroker } from "./src/broker/memory_broker.ts";
import { startService } from "./src/server.ts";

let config;
try {
  config = parseConfig(Deno.env.toObject());
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  Deno.exit(1);
}

const broker = createMemoryBroker({ taskTtlSeconds: config.taskTtlSeconds });
const service = await startService(config, broker, {
  runJobs: true,
  mode: "embedded",
  onListen: (url) =>
    console.log(
      `Wattcast listening on ${url} (embedded mode: in-memory broker, training in this process)`,
    ),
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, async () => {
    console.log(`${signal} received; stopping.`);
    await service.close();
    Deno.exit(0);
  });
}
