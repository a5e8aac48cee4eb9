/**
 * The response headers of a rate limit: `Retry-After` on a refusal, and the
 * IETF `RateLimit-Policy` / `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers,
 * revisions 08 to 11): Structured Field lists of one item, the policy's name
 * as a String, with `q` (the quota) and `w` (the window, seconds) on the
 * policy, `r` (requests remaining) and `t` (seconds until the quota resets)
 * on the current state:
 *
 * ```
 * RateLimit-Policy: "train";q=30;w=60
 * RateLimit: "train";r=0;t=12
 * Retry-After: 12
 * ```
 *
 * A kind without a limit gets no headers; when the limiter's store could not
 * be reached only `Retry-After` is sent (on a refusal), as nothing is known
 * of the quota.
 *
 * @module
 */
import type { LimitResult } from "./rate_limits.ts";

/** A Structured Field String (RFC 9651 §3.3.3): quoted, `"` and `\` escaped. */
function sfString(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, "?");
  return `"${printable.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The headers to send with a response that counted against `result`. */
export function rateLimitHeaders(result: LimitResult, now = Date.now()): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!result.allowed) headers["Retry-After"] = String(Math.max(1, result.retryAfterSeconds));
  if (result.unavailable || result.limit <= 0) return headers;
  const name = sfString(result.policy.kind);
  const reset = Math.max(0, Math.ceil((result.resetMs - now) / 1000));
  headers["RateLimit-Policy"] = `${name};q=${result.limit};w=${result.policy.windowSeconds}`;
  headers["RateLimit"] = `${name};r=${result.remaining};t=${reset}`;
  return headers;
}
