/**
 * Rate limits in Redis with `@upstash/ratelimit` (fixed windows), shared by
 * every API instance on the same Redis: over Upstash's REST API, or this
 * project's gateway, which runs the library's scripts
 * (`src/gateway/script_shebang.ts`, `ratelimit_scripts.ts`).
 *
 * Keys: `{prefix}ratelimit:{kind}:{key}:{window number}`, expiring with
 * their window. A key that was refused is remembered in process until its
 * window ends (the library's ephemeral cache, bounded here), so a client
 * hammering past its limit costs Redis nothing.
 *
 * When Redis cannot be reached (an error, or no answer within `timeoutMs`),
 * the result is `unavailableResult`: refused for `train` and `upload`, let
 * through for `forecast` and `stream` (see `rate_limits.ts`).
 *
 * @module
 */
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
import { fixedWindowLimiter } from "./ratelimit_scripts.ts";
import {
  LIMIT_KINDS,
  type LimitKind,
  type LimitPolicies,
  type RateLimiter,
  unavailableResult,
  unlimited,
  windowResult,
} from "./rate_limits.ts";

/** Options of the Redis limiter. */
export interface RedisRateLimiterOptions {
  policies: LimitPolicies;
  /** The REST endpoint (Upstash, or the gateway) and its token. */
  url: string;
  token: string;
  /** Prefix of every key (default `wattcast:`, as the broker's). */
  keyPrefix?: string;
  /** Milliseconds to wait for Redis before treating it as unreachable (default 2,000). */
  timeoutMs?: number;
  /** Refused keys remembered in process per kind, at most (default 10,000). */
  maxCachedBlocks?: number;
}

/** A Map that forgets its oldest entry past `max` (the library's block cache, bounded). */
class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }
  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.max) this.delete(this.keys().next().value!);
    return super.set(key, value);
  }
}

/** Creates the Redis limiter. */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): RateLimiter {
  const prefix = options.keyPrefix ?? "wattcast:";
  const timeoutMs = options.timeoutMs ?? 2000;
  const redis = new Redis({
    url: options.url,
    token: options.token,
    enableTelemetry: false,
    // One quick retry: a limit check must not hold the request for seconds.
    retry: { retries: 1, backoff: () => 50 },
  });
  const limiters = new Map<LimitKind, Ratelimit>();
  for (const kind of LIMIT_KINDS) {
    const policy = options.policies[kind];
    if (policy.limit <= 0) continue;
    limiters.set(
      kind,
      new Ratelimit({
        redis,
        limiter: fixedWindowLimiter(policy.limit, policy.windowSeconds),
        prefix: `${prefix}ratelimit:${kind}`,
        ephemeralCache: new BoundedMap(options.maxCachedBlocks ?? 10_000),
        timeout: 0, // the library's timeout lets the request through: ours below decides
        analytics: false,
        enableTelemetry: false,
      }),
    );
  }
  return {
    policies: options.policies,
    async limit(key, kind) {
      const policy = options.policies[kind];
      const limiter = limiters.get(kind);
      if (!limiter) return unlimited(policy);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), timeoutMs);
      });
      try {
        const answer = await Promise.race([limiter.limit(key), timeout]);
        if (answer === null) return unavailableResult(policy);
        const used = answer.success ? policy.limit - answer.remaining : policy.limit + 1;
        return windowResult(policy, used, answer.reset);
      } catch {
        return unavailableResult(policy);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => Promise.resolve(),
  };
}
