/**
 * The rate limiter conformance suite: every behaviour of the `RateLimiter`
 * port, run against each implementation (in process and Redis).
 *
 * @module
 */
import assert from "node:assert/strict";
import { type LimitPolicies, limitPolicies, type RateLimiter } from "./rate_limits.ts";

/** Builds a fresh limiter with these policies, on an empty store. */
export type RateLimiterFactory = (policies: LimitPolicies) => Promise<RateLimiter>;

/** Options of the suite. */
export interface RateLimiterConformanceOptions {
  testOptions?: Partial<Deno.TestDefinition>;
}

/**
 * Waits, if needed, until a window of `windowSeconds` has at least `needMs`
 * left, so a burst is counted in one window (windows are aligned to the clock).
 */
export async function freshWindow(windowSeconds: number, needMs: number): Promise<void> {
  const windowMs = windowSeconds * 1000;
  const left = windowMs - (Date.now() % windowMs);
  if (left < needMs) await new Promise((resolve) => setTimeout(resolve, left + 20));
}

/** Registers the suite for one implementation. */
export function rateLimiterConformance(
  name: string,
  factory: RateLimiterFactory,
  options: RateLimiterConformanceOptions = {},
): void {
  const test = (title: string, policies: LimitPolicies, fn: (l: RateLimiter) => Promise<void>) =>
    Deno.test({
      name: `${name} rate limiter: ${title}`,
      ...options.testOptions,
      fn: async () => {
        const limiter = await factory(policies);
        try {
          await fn(limiter);
        } finally {
          await limiter.close();
        }
      },
    });

  test(
    "counts up to the limit, then refuses with the time to wait",
    limitPolicies({ train: 3 }),
    async (limiter) => {
      await freshWindow(60, 10_000);
      const before = Date.now();
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await limiter.limit("alice", "train"));
      assert.deepEqual(results.map((r) => r.allowed), [true, true, true, false, false]);
      assert.deepEqual(results.map((r) => r.remaining), [2, 1, 0, 0, 0]);
      assert.ok(results.every((r) => r.limit === 3 && !r.unavailable));
      assert.deepEqual(results[0].policy, { kind: "train", limit: 3, windowSeconds: 60 });
      assert.deepEqual(results.slice(0, 3).map((r) => r.retryAfterSeconds), [0, 0, 0]);
      const refused = results[3];
      assert.ok(refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 60);
      assert.ok(refused.resetMs > before && refused.resetMs <= Date.now() + 60_000);
      assert.equal(refused.resetMs % 60_000, 0, "windows are aligned to the clock");
      assert.ok(results.every((r) => r.resetMs === refused.resetMs), "one window for all");
      assert.ok(
        Math.abs(refused.retryAfterSeconds - (refused.resetMs - Date.now()) / 1000) <= 1,
        "Retry-After is the time to the window's end",
      );
    },
  );

  test(
    "keys and kinds are counted apart",
    limitPolicies({ train: 1, upload: 1 }),
    async (limiter) => {
      await freshWindow(60, 10_000);
      assert.equal((await limiter.limit("alice", "train")).allowed, true);
      assert.equal((await limiter.limit("alice", "train")).allowed, false);
      assert.equal((await limiter.limit("bob", "train")).allowed, true, "another key");
      assert.equal((await limiter.limit("alice", "upload")).allowed, true, "another kind");
      assert.equal((await limiter.limit("alice", "upload")).allowed, false);
      const forecast = await limiter.limit("alice", "forecast");
      assert.equal(forecast.allowed, true);
      assert.equal(forecast.limit, 120, "the default forecast limit");
      assert.equal(forecast.remaining, 119);
    },
  );

  test(
    "a window's count starts again at its end",
    limitPolicies({ stream: 2 }, 1),
    async (limiter) => {
      await freshWindow(1, 600);
      assert.equal((await limiter.limit("k", "stream")).allowed, true);
      assert.equal((await limiter.limit("k", "stream")).allowed, true);
      const refused = await limiter.limit("k", "stream");
      assert.equal(refused.allowed, false);
      await new Promise((resolve) => setTimeout(resolve, refused.resetMs - Date.now() + 20));
      const again = await limiter.limit("k", "stream");
      assert.equal(again.allowed, true);
      assert.equal(again.remaining, 1);
      assert.ok(again.resetMs > refused.resetMs);
    },
  );

  test(
    "requests at the same time are each counted once",
    limitPolicies({ upload: 5 }),
    async (limiter) => {
      await freshWindow(60, 10_000);
      const results = await Promise.all(
        Array.from({ length: 20 }, () => limiter.limit("burst", "upload")),
      );
      assert.equal(results.filter((r) => r.allowed).length, 5);
      assert.deepEqual(
        results.filter((r) => r.allowed).map((r) => r.remaining).sort(),
        [0, 1, 2, 3, 4],
      );
    },
  );

  test("a limit of 0 is no limit", limitPolicies({ forecast: 0 }), async (limiter) => {
    for (let i = 0; i < 30; i++) {
      const result = await limiter.limit("k", "forecast");
      assert.equal(result.allowed, true);
      assert.equal(result.retryAfterSeconds, 0);
    }
  });
}
