/**
 * The limits a process enforces, built from the configuration: the rate
 * limiter and the stream slots, in Redis when the broker is Redis (so every
 * API instance shares them), in process otherwise. And the key a request is
 * counted under.
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { Principal } from "../domain/principal.ts";
import { createMemoryRateLimiter } from "./memory_rate_limiter.ts";
import { createMemoryStreamSlots } from "./memory_stream_slots.ts";
import { limitPolicies, type RateLimiter } from "./rate_limits.ts";
import { createRedisRateLimiter } from "./redis_rate_limiter.ts";
import { createRedisStreamSlots } from "./redis_stream_slots.ts";
import type { StreamSlots } from "./stream_slots.ts";

/** The limits of one process. */
export interface Limits {
  /** Requests per window, by kind. */
  rates: RateLimiter;
  /** Open event streams per key. */
  streams: StreamSlots;
  /** Stops heartbeats and timers. */
  close(): Promise<void>;
}

/** Where Redis is, over REST (the broker's endpoint); null in embedded mode. */
export interface RedisRest {
  url: string;
  token: string;
}

/** Builds the limits: in Redis when `redis` is given, in process otherwise. */
export function openLimits(
  config: Pick<Config, "rateLimitsPerMinute" | "streamLimitPerPrincipal">,
  redis: RedisRest | null,
): Limits {
  const policies = limitPolicies(config.rateLimitsPerMinute);
  const limit = config.streamLimitPerPrincipal;
  const rates = redis
    ? createRedisRateLimiter({ policies, ...redis })
    : createMemoryRateLimiter({ policies });
  const streams = redis
    ? createRedisStreamSlots({ limit, ...redis })
    : createMemoryStreamSlots({ limit });
  return {
    rates,
    streams,
    async close() {
      await rates.close();
      await streams.close();
    },
  };
}

/**
 * The key a request is counted under: the principal's name, or with
 * authentication off (the anonymous principal) the client's address. The
 * two are told apart, so no principal can be named after an address.
 */
export function limitKey(
  principal: Pick<Principal, "name" | "via">,
  clientAddress: string,
): string {
  return principal.via === "anonymous" ? `addr:${clientAddress}` : `principal:${principal.name}`;
}
