import assert from "node:assert/strict";
import { needsRedis } from "../../tests/redis_server.ts";
import { startTestGateway } from "../../tests/test_gateway.ts";
import { createRedisStreamSlots } from "./redis_stream_slots.ts";
import { streamSlotsConformance } from "./stream_slots_conformance.ts";

// The same suite as in process, through the REST gateway (default script
// policy: the slot scripts are the project's) on a real redis-server.
streamSlotsConformance("redis", async () => {
  const gateway = await startTestGateway();
  return {
    open: (options) =>
      createRedisStreamSlots({ ...options, url: gateway.url, token: gateway.token }),
    close: () => gateway.close(),
  };
}, { testOptions: needsRedis() });

Deno.test({
  name: "redis stream slots: with Redis unreachable, streams open uncounted",
  ...needsRedis(),
  fn: async () => {
    const slots = createRedisStreamSlots({ limit: 1, url: "http://127.0.0.1:9", token: "x" });
    const results = [await slots.acquire("alice"), await slots.acquire("alice")];
    assert.ok(results.every((r) => r.acquired && r.unavailable && r.slot !== null));
    for (const r of results) await r.slot!.release();
    await slots.close();
  },
});
