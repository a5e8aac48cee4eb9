import assert from "node:assert/strict";
import { rateLimitHeaders } from "./rate_limit_headers.ts";
import { limitPolicies, unavailableResult, unlimited, windowResult } from "./rate_limits.ts";

const now = 1_800_000_000_000;
const policies = limitPolicies({ train: 30, forecast: 0 });

Deno.test("an allowed request carries the policy and what is left, no Retry-After", () => {
  const result = windowResult(policies.train, 4, now + 41_500, now);
  assert.deepEqual(rateLimitHeaders(result, now), {
    "RateLimit-Policy": '"train";q=30;w=60',
    "RateLimit": '"train";r=26;t=42',
  });
});

Deno.test("a refused request carries Retry-After and nothing remaining", () => {
  const result = windowResult(policies.train, 31, now + 12_000, now);
  assert.equal(result.allowed, false);
  assert.deepEqual(rateLimitHeaders(result, now), {
    "Retry-After": "12",
    "RateLimit-Policy": '"train";q=30;w=60',
    "RateLimit": '"train";r=0;t=12',
  });
  // Less than a second left: still at least 1 (0 would invite an immediate retry).
  const edge = windowResult(policies.train, 31, now + 200, now);
  assert.equal(rateLimitHeaders(edge, now)["Retry-After"], "1");
  assert.equal(rateLimitHeaders(edge, now)["RateLimit"], '"train";r=0;t=1');
});

Deno.test("no limit, no headers; store unreachable, only Retry-After when refused", () => {
  assert.deepEqual(rateLimitHeaders(unlimited(policies.forecast), now), {});
  assert.deepEqual(rateLimitHeaders(unavailableResult(policies.train, now), now), {
    "Retry-After": "5",
  });
  assert.deepEqual(rateLimitHeaders(unavailableResult(policies.stream, now), now), {});
});

Deno.test("the policy name is a Structured Field String, escaped", () => {
  const result = windowResult(
    // deno-lint-ignore no-explicit-any
    { kind: 'we"ird\\' as any, limit: 2, windowSeconds: 10 },
    1,
    now + 5000,
    now,
  );
  assert.equal(rateLimitHeaders(result, now)["RateLimit-Policy"], '"we\\"ird\\\\";q=2;w=10');
});
