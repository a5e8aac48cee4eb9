/**
 * `@upstash/ratelimit` through the REST gateway, against a real
 * `redis-server`: its scripts start with `#!lua flags=allow-key-locking`,
 * which Redis refuses; the gateway runs them with the flag dropped, under
 * the SHA-1 the library knows them by, and allows exactly the ones the app
 * uses.
 */
import assert from "node:assert/strict";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { RATELIMIT_SCRIPTS } from "../src/limits/ratelimit_scripts.ts";
import { freshWindow } from "../src/limits/rate_limiter_conformance.ts";
import { needsRedis } from "./redis_server.ts";
import { startTestGateway, type TestGateway } from "./test_gateway.ts";

function test(
  name: string,
  fn: (gateway: TestGateway) => Promise<void>,
  options: Parameters<typeof startTestGateway>[0] = {},
) {
  Deno.test({
    name: `@upstash/ratelimit through the gateway: ${name}`,
    ...needsRedis(),
    fn: async () => {
      const gateway = await startTestGateway(options);
      try {
        await fn(gateway);
      } finally {
        await gateway.close();
      }
    },
  });
}

const client = (gateway: TestGateway) =>
  new Redis({ url: gateway.url, token: gateway.token, enableTelemetry: false });

const limiter = (redis: Redis, limit: number, window: `${number} s`) =>
  new Ratelimit({
    redis,
    limiter: Ratelimit.fixedWindow(limit, window),
    ephemeralCache: false, // every call reaches Redis
    enableTelemetry: false,
    timeout: 0,
  });

/** Calls of a command Redis counted, from INFO commandstats. */
async function calls(direct: IORedis, command: string): Promise<{ ok: number; failed: number }> {
  const info = await direct.info("commandstats");
  const line = info.split("\n").find((l) => l.startsWith(`cmdstat_${command}:`)) ?? "";
  const field = (name: string) => Number(new RegExp(`${name}=(\\d+)`).exec(line)?.[1] ?? 0);
  return { ok: field("calls") - field("failed_calls"), failed: field("failed_calls") };
}

test("plain redis-server refuses the library's script as it is sent", async (gateway) => {
  const direct = new IORedis(gateway.redis.url);
  try {
    await assert.rejects(
      direct.eval(RATELIMIT_SCRIPTS[0].script, 1, "k", "1", "1000", "1"),
      /Unexpected flag in script shebang/,
    );
  } finally {
    direct.disconnect();
  }
});

test("limits hold, then reset after the window", async (gateway) => {
  const ratelimit = limiter(client(gateway), 3, "1 s");
  await freshWindow(1, 600);
  const results: Awaited<ReturnType<Ratelimit["limit"]>>[] = [];
  for (let i = 0; i < 4; i++) results.push(await ratelimit.limit("alice"));
  assert.deepEqual(results.map((r) => r.success), [true, true, true, false]);
  assert.deepEqual(results.map((r) => r.remaining), [2, 1, 0, 0]);
  assert.equal(results[3].limit, 3);
  await new Promise((resolve) => setTimeout(resolve, results[3].reset - Date.now() + 20));
  const after = await ratelimit.limit("alice");
  assert.equal(after.success, true);
  assert.equal(after.remaining, 2);
});

test("after the first EVAL, calls go by EVALSHA", async (gateway) => {
  const direct = new IORedis(gateway.redis.url);
  try {
    const ratelimit = limiter(client(gateway), 100, "60 s");
    assert.equal((await ratelimit.limit("k")).success, true);
    // Redis had no script: EVALSHA failed with NOSCRIPT, the library sent EVAL.
    assert.deepEqual(await calls(direct, "evalsha"), { ok: 0, failed: 1 });
    assert.deepEqual(await calls(direct, "eval"), { ok: 1, failed: 0 });
    for (let i = 0; i < 5; i++) assert.equal((await ratelimit.limit("k")).success, true);
    assert.deepEqual(await calls(direct, "evalsha"), { ok: 5, failed: 1 }, "EVALSHA from then on");
    assert.deepEqual(await calls(direct, "eval"), { ok: 1, failed: 0 });
    const last = await ratelimit.limit("k");
    assert.equal(last.remaining, 100 - 7);
    // SCRIPT EXISTS and SCRIPT LOAD speak of the script by the library's SHA-1.
    const redis = client(gateway);
    assert.deepEqual(await redis.scriptExists(RATELIMIT_SCRIPTS[0].sha, "0".repeat(40)), [1, 0]);
    assert.equal(await redis.scriptLoad(RATELIMIT_SCRIPTS[0].script), RATELIMIT_SCRIPTS[0].sha);
  } finally {
    direct.disconnect();
  }
});

test("two clients share one limit", async (gateway) => {
  const a = limiter(client(gateway), 4, "60 s");
  const b = limiter(client(gateway), 4, "60 s");
  await freshWindow(60, 10_000);
  const results = await Promise.all([
    a.limit("shared"),
    b.limit("shared"),
    a.limit("shared"),
    b.limit("shared"),
    a.limit("shared"),
    b.limit("shared"),
  ]);
  assert.equal(results.filter((r) => r.success).length, 4);
  assert.equal((await b.limit("shared")).success, false);
  assert.equal((await a.limit("other")).success, true, "another identifier has its own count");
});

test("by default only the scripts the app uses run: another algorithm's is refused", async (gateway) => {
  const sliding = new Ratelimit({
    redis: client(gateway),
    limiter: Ratelimit.slidingWindow(3, "10 s"),
    ephemeralCache: false,
    enableTelemetry: false,
    timeout: 0,
  });
  await assert.rejects(sliding.limit("k"), /not one of this gateway.s Wattcast scripts/);
});

test("with any script allowed, the library's other algorithms run too", async (gateway) => {
  const sliding = new Ratelimit({
    redis: client(gateway),
    limiter: Ratelimit.slidingWindow(2, "10 s"),
    ephemeralCache: false,
    enableTelemetry: false,
    timeout: 0,
  });
  const results = [];
  for (let i = 0; i < 3; i++) results.push((await sliding.limit("k")).success);
  assert.deepEqual(results, [true, true, false]);
}, { scripts: "any" });
