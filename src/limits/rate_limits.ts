/**
 * Rate limits: how many requests of a kind one principal (or, with
 * authentication off, one client address) may make per window. The port
 * `RateLimiter` has two implementations that pass one conformance suite
 * (`rate_limiter_conformance.ts`): in process for embedded mode
 * (`memory_rate_limiter.ts`) and in Redis with `@upstash/ratelimit`, shared
 * by every API instance (`redis_rate_limiter.ts`).
 *
 * Both count in fixed windows aligned to the clock (`@upstash/ratelimit`'s
 * `fixedWindow`): a window's count starts again at its end, so the reset time
 * and `Retry-After` are exact. (A burst straddling a boundary can reach twice
 * the limit within one window's length; the limits are against abuse, not
 * for billing.)
 *
 * | kind       | counts                          | default     | variable                        |
 * |------------|---------------------------------|-------------|---------------------------------|
 * | `train`    | tasks started (`POST /trainmodel/`) | 30 / minute | `RATE_LIMIT_TRAIN_PER_MINUTE`   |
 * | `upload`   | readings uploads                | 60 / minute | `RATE_LIMIT_UPLOAD_PER_MINUTE`  |
 * | `forecast` | forecasts                       | 120 / minute | `RATE_LIMIT_FORECAST_PER_MINUTE` |
 * | `stream`   | event streams opened            | 60 / minute | `RATE_LIMIT_STREAM_PER_MINUTE`  |
 *
 * `0` turns a kind's limit off.
 *
 * When Redis cannot be reached, writes fail closed and reads fail open
 * (`FAIL_CLOSED`): starting a task or uploading is refused with
 * `unavailable: true` (answer `503` with `Retry-After`; the task would not
 * have been queued anyway without Redis), while forecasts and stream opens are
 * let through with `unavailable: true` (they need Redis too, and fail on their
 * own if it is really gone; a limiter hiccup alone should not take reads down).
 *
 * @module
 */

/** What a limit counts. */
export const LIMIT_KINDS = ["train", "upload", "forecast", "stream"] as const;

/** One kind of limited request. */
export type LimitKind = typeof LIMIT_KINDS[number];

/** A kind's limit: `limit` requests per `windowSeconds`; `limit` 0 is no limit. */
export interface LimitPolicy {
  kind: LimitKind;
  limit: number;
  windowSeconds: number;
}

/** The limits of every kind. */
export type LimitPolicies = Readonly<Record<LimitKind, LimitPolicy>>;

/** Requests per minute when nothing is configured. */
export const DEFAULT_LIMITS_PER_MINUTE: Readonly<Record<LimitKind, number>> = {
  train: 30,
  upload: 60,
  forecast: 120,
  stream: 60,
};

/** Kinds refused when the limiter's store cannot be reached; the others are let through. */
export const FAIL_CLOSED: ReadonlySet<LimitKind> = new Set(["train", "upload"]);

/** Seconds a client is asked to wait when the limiter's store cannot be reached. */
export const UNAVAILABLE_RETRY_SECONDS = 5;

/** Per-minute limits as policies (`windowSeconds` 60 unless given). */
export function limitPolicies(
  perWindow: Partial<Record<LimitKind, number>> = {},
  windowSeconds = 60,
): LimitPolicies {
  const entries = LIMIT_KINDS.map((kind) => [kind, {
    kind,
    limit: perWindow[kind] ?? DEFAULT_LIMITS_PER_MINUTE[kind],
    windowSeconds,
  }]);
  return Object.fromEntries(entries) as Record<LimitKind, LimitPolicy>;
}

/** The answer to one request. */
export interface LimitResult {
  /** Go ahead. */
  allowed: boolean;
  /** Requests allowed per window (0: unlimited). */
  limit: number;
  /** Requests left in this window after this one. */
  remaining: number;
  /** When the window's count starts again, epoch milliseconds. */
  resetMs: number;
  /** When refused, whole seconds to wait (at least 1); 0 when allowed. */
  retryAfterSeconds: number;
  policy: LimitPolicy;
  /**
   * The store could not be reached: `allowed` is then the kind's failure
   * rule (`FAIL_CLOSED`); refuse with `503`, not `429`.
   */
  unavailable: boolean;
}

/** Counts requests against the limits. */
export interface RateLimiter {
  /** The limits it applies. */
  readonly policies: LimitPolicies;
  /**
   * Counts one request of `kind` by `key` (a principal's name; the client
   * address when authentication is off) and says whether it may go ahead.
   * Never rejects: a store failure is reported in `unavailable`.
   */
  limit(key: string, kind: LimitKind): Promise<LimitResult>;
  /** Stops timers and releases connections. */
  close(): Promise<void>;
}

/** The result for a kind whose limit is off. */
export function unlimited(policy: LimitPolicy): LimitResult {
  return {
    allowed: true,
    limit: 0,
    remaining: 0,
    resetMs: 0,
    retryAfterSeconds: 0,
    policy,
    unavailable: false,
  };
}

/** The result when the store cannot be reached: refused or let through by `FAIL_CLOSED`. */
export function unavailableResult(policy: LimitPolicy, now = Date.now()): LimitResult {
  const allowed = !FAIL_CLOSED.has(policy.kind);
  return {
    allowed,
    limit: policy.limit,
    remaining: 0,
    resetMs: now + UNAVAILABLE_RETRY_SECONDS * 1000,
    retryAfterSeconds: allowed ? 0 : UNAVAILABLE_RETRY_SECONDS,
    policy,
    unavailable: true,
  };
}

/** The result of a count in a fixed window. */
export function windowResult(
  policy: LimitPolicy,
  used: number,
  resetMs: number,
  now = Date.now(),
): LimitResult {
  const allowed = used <= policy.limit;
  return {
    allowed,
    limit: policy.limit,
    remaining: Math.max(0, policy.limit - used),
    resetMs,
    retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((resetMs - now) / 1000)),
    policy,
    unavailable: false,
  };
}
