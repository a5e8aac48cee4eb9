/**
 * The brokers of a benchmark that plays an API process and a worker: one
 * shared broker in embedded mode (memory or SQLite), two Redis brokers on
 * one `redis-server` behind the REST gateway in Redis mode; the API
 * instance on one side, and a task the worker's side reports on.
 *
 * @module
 */
import { createMemoryBroker } from "../src/broker/memory_broker.ts";
import { openSqliteBroker } from "../src/broker/sqlite_broker.ts";
import { createRedisBroker } from "../src/broker/redis_broker.ts";
import type { Broker } from "../src/broker/broker.ts";
import { serveGateway } from "../src/gateway/serve_gateway.ts";
import { startRedis } from "../tests/redis_server.ts";
import { parseConfig } from "../src/config.ts";
import { startService } from "../src/server.ts";
import { createTracker, type TaskTracker } from "../src/tracker/tracker.ts";
import { UNLIMITED } from "./unlimited.ts";

/** The API's and the worker's brokers, and what to close after (in order). */
export interface BrokerPair {
  api: Broker;
  worker: Broker;
  cleanups: (() => Promise<void>)[];
}

/** Opens the brokers of `mode`; SQLite keeps its file in `dataDir`. */
export async function openBrokerPair(
  mode: "memory" | "sqlite" | "redis",
  dataDir: string,
): Promise<BrokerPair> {
  if (mode === "memory") {
    const broker = createMemoryBroker({ taskTtlSeconds: 600 });
    return { api: broker, worker: broker, cleanups: [] };
  }
  if (mode === "sqlite") {
    const broker = openSqliteBroker({ path: `${dataDir}/wattcast.db`, taskTtlSeconds: 600 });
    return { api: broker, worker: broker, cleanups: [] };
  }
  const redis = await startRedis();
  const gateway = await serveGateway({ redisUrl: redis.url, token: "bench", port: 0 });
  const options = { url: gateway.url, token: "bench", taskTtlSeconds: 600 };
  const api = await createRedisBroker(options);
  const worker = await createRedisBroker(options);
  return {
    api,
    worker,
    cleanups: [() => redis.stop(), () => gateway.close(), () => worker.close()],
  };
}

/** An API instance serving one side of a broker pair, the other side for a worker to report on. */
export interface BenchApi {
  url: string;
  /** The worker's broker. */
  worker: Broker;
  /** Closes the instance and the brokers, and removes the data directory. */
  close(): Promise<void>;
}

/**
 * Starts an API instance (no job runner) of `mode` on a free port, with
 * the benchmark's unlimited settings and `env` on top.
 */
export async function startBenchApi(
  mode: "memory" | "sqlite" | "redis",
  env: Record<string, string>,
): Promise<BenchApi> {
  const dataDir = await Deno.makeTempDir();
  const pair = await openBrokerPair(mode, dataDir);
  const config = parseConfig({
    ...UNLIMITED,
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    ...env,
  });
  const service = await startService(config, pair.api, {
    runJobs: false,
    mode: mode === "redis" ? "redis" : "embedded",
  });
  return {
    url: service.url,
    worker: pair.worker,
    async close() {
      await service.close();
      for (const cleanup of pair.cleanups) await cleanup();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/**
 * A task created on the worker's side and brought to the point where
 * training reports epochs, as a worker would: the tracker to report with
 * and the task's id.
 */
export async function startFakeTraining(
  worker: Broker,
  epochs: number,
): Promise<{ tracker: TaskTracker; id: string }> {
  const tracker = createTracker(worker);
  const created = await tracker.create(
    { meter_id: "meter_test_001", meter_type: "electricity" },
    { epochs, batch_size: 64, learning_rate: 0.01 },
  );
  if (!created.created) throw new Error("could not create the task");
  const id = created.task.task_id;
  await tracker.update(id, { status: "FETCHING_DATA" });
  await tracker.update(id, { status: "PREPROCESSING" });
  return { tracker, id };
}
