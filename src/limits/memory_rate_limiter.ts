/**
 * Rate limits in process, for embedded mode: one counter per kind and key in
 * the current fixed window, as `@upstash/ratelimit`'s `fixedWindow` keeps
 * them in Redis. Memory is bounded: counters of past windows are dropped
 * when a new window starts, and at most `maxKeys` keys are counted per kind
 * (past that, the oldest counter is forgotten: its key starts again from
 * zero, which only a client cycling through that many identities gains by).
 *
 * @module
 */
import {
  type LimitKind,
  type LimitPolicies,
  type RateLimiter,
  unlimited,
  windowResult,
} from "./rate_limits.ts";

/** Options of the in-process limiter. */
export interface MemoryRateLimiterOptions {
  policies: LimitPolicies;
  /** Keys counted per kind at most (default 100,000). */
  maxKeys?: number;
  /** The clock, epoch milliseconds (tests). */
  now?: () => number;
}

/** Creates the in-process limiter. */
export function createMemoryRateLimiter(options: MemoryRateLimiterOptions): RateLimiter {
  const maxKeys = options.maxKeys ?? 100_000;
  const now = options.now ?? Date.now;
  const windows = new Map<LimitKind, { bucket: number; counts: Map<string, number> }>();
  return {
    policies: options.policies,
    limit(key, kind) {
      const policy = options.policies[kind];
      if (policy.limit <= 0) return Promise.resolve(unlimited(policy));
      const at = now();
      const windowMs = policy.windowSeconds * 1000;
      const bucket = Math.floor(at / windowMs);
      let window = windows.get(kind);
      if (!window || window.bucket !== bucket) {
        window = { bucket, counts: new Map() }; // past windows' counters go
        windows.set(kind, window);
      }
      const counts = window.counts;
      const used = Math.min((counts.get(key) ?? 0) + 1, policy.limit + 1);
      if (!counts.has(key) && counts.size >= maxKeys) counts.delete(counts.keys().next().value!);
      counts.set(key, used);
      return Promise.resolve(windowResult(policy, used, (bucket + 1) * windowMs, at));
    },
    close() {
      windows.clear();
      return Promise.resolve();
    },
  };
}
