/**
 * The fan-out benchmark's embedded-mode instance: Wattcast's service as
 * `deno task dev` runs it (the SQLite store, the default HTTP server), with
 * its training left out so nothing but the streams moves, and one task
 * whose events this process reports on `POST /fire` (a training's progress
 * report, through the tracker, as the in-process job runner makes it) on a
 * second port. Args: port, control port. Prints `task <id>` once ready.
 *
 * @module
 */
import { UNLIMITED } from "./unlimited.ts";
import { openSqliteBroker } from "../src/broker/sqlite_broker.ts";
import { parseConfig } from "../src/config.ts";
import { startService } from "../src/server.ts";
import { createTracker } from "../src/tracker/tracker.ts";

const [port, controlPort] = Deno.args.map(Number);
const dataDir = await Deno.makeTempDir({ prefix: "wattcast-fanout-" });
Deno.addSignalListener("SIGTERM", () => {
  Deno.removeSync(dataDir, { recursive: true });
  Deno.exit(0);
});
const config = parseConfig({
  ...UNLIMITED,
  ...Deno.env.toObject(),
  PORT: String(port),
  HOST: "127.0.0.1",
  DATA_DIR: dataDir,
  SEED_DEMO_METERS: "false",
});
const broker = openSqliteBroker({ path: `${dataDir}/wattcast.db`, taskTtlSeconds: 600 });
await startService(config, broker, { runJobs: false, mode: "embedded" });
const tracker = createTracker(broker);
const created = await tracker.create({ meter_id: "fanout", meter_type: "electricity" }, {
  epochs: 1000,
  batch_size: 32,
  learning_rate: 0.001,
});
if (!created.created) throw new Error("the fan-out meter already has an active task");
const id = created.task.task_id;
await tracker.update(id, { status: "FETCHING_DATA" });
await tracker.update(id, { status: "PREPROCESSING" });
let epoch = 0;
Deno.serve({ port: controlPort, hostname: "127.0.0.1", onListen() {} }, async () => {
  epoch++;
  await tracker.update(id, {
    status: "TRAINING_MODEL",
    metrics: { epoch, epochs: 1000, loss: 1, val_loss: null },
  });
  return new Response(null, { status: 204 });
});
console.log(`task ${id}`);
