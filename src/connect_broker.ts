/**
 * Picks the broker from the configuration: Redis over REST when
 * `UPSTASH_REDIS_REST_URL` is set; Redis through an in-process gateway when
 * only `REDIS_URL` is (development); otherwise, where that is allowed,
 * embedded mode: SQLite in `{DATA_DIR}/wattcast.db`, so nothing is lost on a
 * restart, or in memory with `DATA_DIR=off` (no writable disk).
 *
 * @module
 */
import { type Config, ConfigError } from "./config.ts";
import { serveGateway } from "./gateway/serve_gateway.ts";
import type { Broker } from "./broker/broker.ts";
import { createMemoryBroker } from "./broker/memory_broker.ts";
import { createRedisBroker, type RedisCommandObserver } from "./broker/redis_broker.ts";
import { openSqliteBroker } from "./broker/sqlite_broker.ts";

/** The embedded database file, inside `DATA_DIR`. */
export const DATABASE_FILE = "wattcast.db";

/** The broker a process runs on, and how it got it. */
export interface BrokerConnection {
  broker: Broker;
  /** `embedded` (SQLite or memory, training in process) or `redis`. */
  mode: "embedded" | "redis";
  /** One line for the start-up log. */
  description: string;
  /**
   * Redis's REST endpoint and token in Redis mode (Upstash, or the
   * in-process gateway), for what else keeps state in Redis (the limits:
   * `src/limits/limits.ts`); null in embedded mode.
   */
  rest: { url: string; token: string } | null;
}

/** What a process may fall back to. */
export interface ConnectOptions {
  /** Use the in-memory broker when no Redis is configured. */
  allowEmbedded: boolean;
  /** Start a gateway in this process when only `REDIS_URL` is set. */
  allowLocalGateway: boolean;
  /** What to say when Redis is required and not configured. */
  requiredFor?: string;
  /** Told of each command the Redis broker sends (for metrics). */
  onRedisCommand?: RedisCommandObserver;
}

/** Connects to the configured broker. */
export async function connectBroker(
  config: Config,
  options: ConnectOptions,
): Promise<BrokerConnection> {
  const settings = { taskTtlSeconds: config.taskTtlSeconds };
  const redisSettings = {
    ...settings,
    livenessMs: config.subscriptionCheckMs,
    onCommand: options.onRedisCommand,
  };
  if (config.redisRestUrl && config.redisRestToken) {
    const broker = await createRedisBroker({
      url: config.redisRestUrl,
      token: config.redisRestToken,
      ...redisSettings,
    }).catch((error) => {
      throw new ConfigError(
        `Could not reach Redis at UPSTASH_REDIS_REST_URL=${config.redisRestUrl}: ${error.message}. Check the URL and token, and that the gateway or Upstash database is up.`,
      );
    });
    return {
      broker,
      mode: "redis",
      description: `Redis over REST at ${config.redisRestUrl}`,
      rest: { url: config.redisRestUrl, token: config.redisRestToken },
    };
  }
  if (config.redisUrl && options.allowLocalGateway) {
    const token = crypto.randomUUID();
    const gateway = await serveGateway({
      redisUrl: config.redisUrl,
      token,
      port: 0,
      scripts: config.gatewayScripts,
    });
    const broker = await createRedisBroker({ url: gateway.url, token, ...redisSettings }).catch(
      async (error) => {
        await gateway.close();
        throw new ConfigError(
          `Could not reach Redis at REDIS_URL=${config.redisUrl}: ${error.message}. Start redis-server, or unset REDIS_URL for embedded mode.`,
        );
      },
    );
    const close = broker.close;
    broker.close = async () => {
      await close();
      await gateway.close();
    };
    return {
      broker,
      mode: "redis",
      description: `Redis at ${config.redisUrl}, through an in-process REST gateway`,
      rest: { url: gateway.url, token },
    };
  }
  if (options.allowEmbedded && config.dataDir === null) {
    return {
      broker: createMemoryBroker(settings),
      mode: "embedded",
      description:
        "embedded mode: in memory, nothing is kept when the process stops (DATA_DIR=off); training in this process",
      rest: null,
    };
  }
  if (options.allowEmbedded && config.dataDir !== null) {
    const path = `${config.dataDir.replace(/\/+$/, "")}/${DATABASE_FILE}`;
    return {
      broker: openSqliteBroker({ path, ...settings }),
      mode: "embedded",
      description: `embedded mode: SQLite at ${path}; training in this process`,
      rest: null,
    };
  }
  throw new ConfigError(
    `Invalid configuration: ${
      options.requiredFor ?? "this process"
    } needs Redis. Set UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN (Upstash, or a gateway started with deno task gateway).`,
  );
}
