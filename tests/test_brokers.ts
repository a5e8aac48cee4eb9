/**
 * Brokers for tests: the in-memory one; the SQLite one in a fresh
 * directory, removed on `close()`; or a Redis broker on a private
 * `redis-server` behind an in-process gateway, whose `close()` stops all
 * three.
 *
 * @module
 */
import type { Broker } from "../src/broker/broker.ts";
import { createMemoryBroker } from "../src/broker/memory_broker.ts";
import { createRedisBroker, type RedisCommandObserver } from "../src/broker/redis_broker.ts";
import { openSqliteBroker } from "../src/broker/sqlite_broker.ts";
import { serveGateway } from "../src/gateway/serve_gateway.ts";
import { startRedis } from "./redis_server.ts";

/** Which broker a test runs on. */
export type BrokerKind = "memory" | "sqlite" | "redis";

/** Starts a Redis broker on its own redis-server and gateway. */
export async function startRedisBroker(
  options: {
    taskTtlSeconds: number;
    livenessMs?: number;
    maxAllEvents?: number;
    onCommand?: RedisCommandObserver;
  },
): Promise<Broker> {
  const redis = await startRedis();
  const gateway = await serveGateway({ redisUrl: redis.url, token: "test", port: 0 });
  const broker = await createRedisBroker({ url: gateway.url, token: "test", ...options });
  const close = broker.close;
  broker.close = async () => {
    await close();
    await gateway.close();
    await redis.stop();
  };
  return broker;
}

/** Opens a SQLite broker on a database in a new temporary directory. */
export async function startSqliteBroker(options: { taskTtlSeconds: number }): Promise<Broker> {
  const dir = await Deno.makeTempDir({ prefix: "wattcast-sqlite-" });
  const broker = openSqliteBroker({ path: `${dir}/wattcast.db`, ...options });
  const close = broker.close;
  broker.close = async () => {
    await close();
    await Deno.remove(dir, { recursive: true });
  };
  return broker;
}

/** A broker of the given kind. */
export function testBroker(kind: BrokerKind, taskTtlSeconds: number): Promise<Broker> {
  if (kind === "memory") return Promise.resolve(createMemoryBroker({ taskTtlSeconds }));
  if (kind === "sqlite") return startSqliteBroker({ taskTtlSeconds });
  return startRedisBroker({ taskTtlSeconds });
}
