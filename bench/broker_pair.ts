/**
 * The brokers of a benchmark that plays an API process and a worker: one
 * shared broker in embedded mode (memory or SQLite), two Redis brokers on
 * one `redis-server` behind the REST gateway in Redis mode.
 *
 * @module
 */
import { createMemoryBroker } from "../src/broker/memory_broker.ts";
import { openSqliteBroker } from "../src/broker/sqlite_broker.ts";
import { createRedisBroker } from "../src/broker/redis_broker.ts";
import type { Broker } from "../src/broker/broker.ts";
import { serveGateway } from "../src/gateway/serve_gateway.ts";
import { startRedis } from "../tests/redis_server.ts";

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
