/**
 * Training a fleet: 100 real meter-years (the `bench/data` meters, each
 * stored again under other ids) started with one `POST /trainmodel/batch`
 * on the embedded service with `TRAINING_CONCURRENCY` at the number of
 * cores; the wall time from the request to the group's last task ending,
 * against one meter's training time × meters ÷ cores.
 *
 * One meter's time is measured on the same service, one task at a time
 * (from its request to its final event, as for the fleet), once for each
 * distinct meter-year before the fleet and once after: the machine is
 * shared, so the load is sampled around both.
 *
 * @module
 */
import { UNLIMITED } from "./unlimited.ts";
import { openSqliteBroker } from "../src/broker/sqlite_broker.ts";
import { parseConfig } from "../src/config.ts";
import { startService } from "../src/server.ts";

/** What the fleet run measured. */
export interface FleetResult {
  meters: number;
  cores: number;
  /** Mean seconds of one meter trained alone (request to final event). */
  oneMeterSeconds: number;
  /** The same, measured before and after the fleet. */
  oneMeterBefore: number;
  oneMeterAfter: number;
  /** Seconds from the batch request to the group's last task ending. */
  wallSeconds: number;
  /** One meter's time × meters ÷ cores. */
  idealSeconds: number;
  succeeded: number;
  failed: number;
  /** Mean training time per task in the fleet (the task's own `training_time_seconds`). */
  fleetTrainingSeconds: number;
  /** 1-minute load averages: before the first single run, before the fleet, after it. */
  load: [number, number, number];
}

const SOURCES = [
  "electricity_ucam_b0_2018",
  "electricity_ucam_b5_2018",
  "electricity_ucam_b21_2018",
  "electricity_ucam_b40_2018",
  "electricity_ucam_b119_2018",
  "gas_ucam_b2_2019",
  "gas_ucam_b40_2019",
  "gas_ucam_b57_2019",
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Trains `meters` meter-years at once, and one at a time for the reference. */
export async function measureFleet(meters: number): Promise<FleetResult> {
  const cores = navigator.hardwareConcurrency;
  const dataDir = await Deno.makeTempDir();
  const broker = openSqliteBroker({ path: `${dataDir}/wattcast.db`, taskTtlSeconds: 3600 });
  const config = parseConfig({
    ...UNLIMITED,
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    SEED_DEMO_METERS: "false",
    TRAINING_CONCURRENCY: String(cores),
  });
  const service = await startService(config, broker, { runJobs: true, mode: "embedded" });
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json();
    if (!response.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`);
    return json;
  };
  try {
    const sources = SOURCES.map((name) => {
      const [type] = name.split("_");
      return { type, name, id: name.replace(`${type}_`, "") };
    });
    const fleet: { meter_type: string; meter_id: string }[] = [];
    for (const [i, source] of sources.entries()) {
      const body = await Deno.readTextFile(new URL(`./data/${source.name}.csv`, import.meta.url));
      // The reference meter, and its copies in the fleet.
      const ids = [source.id];
      for (let k = i; k < meters; k += sources.length) ids.push(`${source.id}_fleet_${k}`);
      for (const id of ids) {
        const response = await fetch(`${service.url}/meters/${source.type}/${id}/readings`, {
          method: "POST",
          headers: { "Content-Type": "text/csv" },
          body,
        });
        if (!response.ok) throw new Error(`Upload of ${id}: ${await response.text()}`);
        await response.body?.cancel();
        if (id !== source.id) fleet.push({ meter_type: source.type, meter_id: id });
      }
    }

    /** Trains each reference meter alone, one after another; mean seconds. */
    const oneAtATime = async () => {
      let total = 0;
      for (const source of sources) {
        const started = performance.now();
        const task = await api("POST", "/trainmodel/", {
          meter_type: source.type,
          meter_id: source.id,
        });
        let status = task.status;
        while (!["SUCCESS", "FAILURE", "CANCELLED"].includes(status)) {
          await sleep(100);
          status = (await api("GET", `/trainmodel/status/${task.task_id}`)).status;
        }
        if (status !== "SUCCESS") throw new Error(`${source.id} ended ${status}`);
        total += (performance.now() - started) / 1000;
      }
      return total / sources.length;
    };

    const load0 = Deno.loadavg()[0];
    const before = await oneAtATime();
    const load1 = Deno.loadavg()[0];
    const started = performance.now();
    const batch = await api("POST", "/trainmodel/batch", { meters: fleet });
    let summary;
    do {
      await sleep(250);
      summary = await api("GET", batch.status_url);
    } while (!summary.done);
    const wallSeconds = (performance.now() - started) / 1000;
    const load2 = Deno.loadavg()[0];
    let trainingSeconds = 0;
    for (const { task_id } of summary.tasks) {
      const task = await api("GET", `/trainmodel/status/${task_id}`);
      trainingSeconds += task.result?.details.training_time_seconds ?? 0;
    }
    const after = await oneAtATime();
    const oneMeterSeconds = (before + after) / 2;
    return {
      meters: fleet.length,
      cores,
      oneMeterSeconds,
      oneMeterBefore: before,
      oneMeterAfter: after,
      wallSeconds,
      idealSeconds: oneMeterSeconds * fleet.length / cores,
      succeeded: summary.succeeded,
      failed: summary.failed,
      fleetTrainingSeconds: trainingSeconds / fleet.length,
      load: [load0, load1, load2],
    };
  } finally {
    await service.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}
