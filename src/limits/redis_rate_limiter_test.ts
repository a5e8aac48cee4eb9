import assert from "node:assert/strict";
import { needsRedis } from "../../tests/redis_server.ts";
import { startTestGateway, type TestGateway } from "../../tests/test_gateway.ts";
import { freshWindow, rateLimiterConformance } from "./rate_limiter_conformance.ts";
import { limitPolicies, type RateLimiter } from "./rate_limits.ts";
import { createRedisRateLimiter } from "./redis_rate_limiter.ts";

// The same suite as the in-process limiter, with @upstash/ratelimit through
// the REST gateway (default script policy) on a real redis-server.
rateLimiterConformance("redis", async (policies) => {
  const gateway = await startTestGateway();
  const limiter = createRedisRateLimiter({ policies, url: gateway.url, token: gateway.token });
  return closingBoth(limiter, gateway);
}, { testOptions: needsRedis() });

function closingBoth(limiter: RateLimiter, gateway: TestGateway): RateLimiter {
  return {
    ...limiter,
    async close() {
      await limiter.close();
      await gateway.close();
    },
  };
}

Deno.test({
  name: "redis rate limiter: two API instances on one Redis share one limit",
  ...needsRedis(),
  fn: async () => {
    const gateway = await startTestGateway();
    try {
      const policies = limitPolicies({ train: 3 });
      const options = { policies, url: gateway.url, token: gateway.token };
      const a = createRedisRateLimiter(options);
      const b = createRedisRateLimiter(options);
      await freshWindow(60, 10_000);
      assert.equal((await a.limit("alice", "train")).allowed, true);
      assert.equal((await b.limit("alice", "train")).allowed, true);
      const third = await a.limit("alice", "train");
      assert.equal(third.allowed, true);
      assert.equal(third.remaining, 0);
      const refused = await b.limit("alice", "train");
      assert.equal(refused.allowed, false);
      assert.equal(refused.unavailable, false);
      assert.ok(refused.retryAfterSeconds >= 1);
      assert.equal((await a.limit("alice", "train")).allowed, false);
    } finally {
      await gateway.close();
    }
  },
});

Deno.test({
  name:
    "redis rate limiter: with Redis unreachable, starting tasks and uploads are refused, reads let through",
  ...needsRedis(),
  fn: async () => {
    const gateway = await startTestGateway();
    try {
      const limiter = createRedisRateLimiter({
        policies: limitPolicies(),
        url: gateway.url,
        token: gateway.token,
        timeoutMs: 500,
      });
      assert.equal((await limiter.limit("alice", "train")).unavailable, false);
      await gateway.redis.kill();
      for (const kind of ["train", "upload"] as const) {
        const result = await limiter.limit("alice", kind);
        assert.equal(result.unavailable, true, kind);
        assert.equal(result.allowed, false, kind);
        assert.equal(result.retryAfterSeconds, 5, kind);
      }
      for (const kind of ["forecast", "stream"] as const) {
        const result = await limiter.limit("alice", kind);
        assert.equal(result.unavailable, true, kind);
        assert.equal(result.allowed, true, kind);
      }
      // Nothing listens at all (no gateway either): the same answers.
      const nowhere = createRedisRateLimiter({
        policies: limitPolicies(),
        url: "http://127.0.0.1:9",
        token: "x",
      });
      assert.deepEqual(
        [(await nowhere.limit("a", "train")).allowed, (await nowhere.limit("a", "stream")).allowed],
        [false, true],
      );
      // Back up: counted again (and the gateway closes at once, not after its retries).
      await gateway.redis.restart();
      let back = false;
      for (let i = 0; i < 100 && !back; i++) {
        back = !(await limiter.limit("alice", "train")).unavailable; // once the gateway reconnects
      }
      assert.ok(back, "counted again once Redis is back");
    } finally {
      await gateway.close();
    }
  },
});
