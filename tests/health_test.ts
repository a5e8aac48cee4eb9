/**
 * `/health` answers within a bounded time and says `503 degraded`, naming
 * the dependency, when the broker does not answer: here a real
 * redis-server frozen with SIGSTOP behind the REST gateway.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createRedisBroker } from "../src/broker/redis_broker.ts";
import { parseConfig } from "../src/config.ts";
import { serveGateway } from "../src/gateway/serve_gateway.ts";
import { startService } from "../src/server.ts";
import { needsRedis, startRedis } from "./redis_server.ts";

Deno.test({
  name: "a frozen Redis makes /health answer 503 degraded within its time limit, naming the broker",
  ...needsRedis(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const redis = await startRedis();
    const gateway = await serveGateway({ redisUrl: redis.url, token: "health", port: 0 });
    const broker = await createRedisBroker({
      url: gateway.url,
      token: "health",
      taskTtlSeconds: 600,
    });
    const dataDir = await Deno.makeTempDir({ prefix: "wattcast-health-" });
    const config = parseConfig({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir });
    const service = await startService(config, broker, { runJobs: false, mode: "api" });
    let frozen = false;
    try {
      const healthy = await fetch(`${service.url}/health`);
      assert.equal(healthy.status, 200);
      assert.equal((await healthy.json()).dependencies.broker.up, true);

      Deno.kill(redis.pid, "SIGSTOP");
      frozen = true;
      const started = performance.now();
      const response = await fetch(`${service.url}/health`);
      const elapsed = performance.now() - started;
      const body = await response.json();
      assert.equal(response.status, 503);
      assert.equal(body.status, "degraded");
      assert.equal(body.dependencies.broker.up, false);
      assert.match(body.dependencies.broker.error, /did not answer within 2 s/);
      assert.equal(body.dependencies.event_streams.up, true, "the others are still reported");
      assert.ok(elapsed < 3000, `answered in ${elapsed.toFixed(0)} ms, not when Redis came back`);

      Deno.kill(redis.pid, "SIGCONT");
      frozen = false;
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = (await fetch(`${service.url}/health`).then(async (r) => {
          await r.body?.cancel();
          return r;
        })).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 200, "healthy again once Redis answers");
    } finally {
      if (frozen) Deno.kill(redis.pid, "SIGCONT");
      await service.close();
      await gateway.close();
      await redis.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
