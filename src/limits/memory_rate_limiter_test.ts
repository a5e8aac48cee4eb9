import assert from "node:assert/strict";
import { createMemoryRateLimiter } from "./memory_rate_limiter.ts";
import { rateLimiterConformance } from "./rate_limiter_conformance.ts";
import { limitPolicies } from "./rate_limits.ts";

rateLimiterConformance(
  "memory",
  (policies) => Promise.resolve(createMemoryRateLimiter({ policies })),
);

Deno.test("memory rate limiter: memory is bounded by keys per kind and by window", async () => {
  let now = 1_000_000 * 60_000;
  const limiter = createMemoryRateLimiter({
    policies: limitPolicies({ train: 1 }),
    maxKeys: 3,
    now: () => now,
  });
  for (const key of ["a", "b", "c"]) {
    assert.equal((await limiter.limit(key, "train")).allowed, true);
  }
  assert.equal((await limiter.limit("a", "train")).allowed, false);
  // A fourth key pushes out the oldest counter ("a"), which starts again.
  assert.equal((await limiter.limit("d", "train")).allowed, true);
  assert.equal((await limiter.limit("a", "train")).allowed, true);
  assert.equal((await limiter.limit("d", "train")).allowed, false, "newer counters are kept");
  now += 60_000; // the next window: every counter starts again
  for (const key of ["a", "b", "c", "d"]) {
    assert.equal((await limiter.limit(key, "train")).allowed, true);
  }
});
