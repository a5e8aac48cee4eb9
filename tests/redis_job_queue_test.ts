/**
 * The Redis job queue's upkeep: workers that are gone leave the consumer
 * group, and a queue deleted under the broker is made again.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { jobOf, sampleTask } from "../src/broker/broker_conformance.ts";
import { createRedisBroker } from "../src/broker/redis_broker.ts";
import { serveGateway } from "../src/gateway/serve_gateway.ts";
import { needsRedis, startRedis } from "./redis_server.ts";

Deno.test({
  name:
    "redis: departed workers leave the job group; one holding a job stays; a deleted queue is made again",
  ...needsRedis(),
  async fn() {
    const redis = await startRedis();
    const gateway = await serveGateway({ redisUrl: redis.url, token: "test", port: 0 });
    const broker = await createRedisBroker({
      url: gateway.url,
      token: "test",
      taskTtlSeconds: 60,
      deadConsumerMs: 0,
    });
    const raw = new Redis(redis.url);
    const consumers = async () =>
      ((await raw.xinfo("CONSUMERS", "wattcast:jobs", "workers")) as unknown[][])
        .map((c) => c[1] as string).sort();
    try {
      for (const _ of [1, 2]) {
        const task = sampleTask();
        await broker.createTask(task, jobOf(task));
      }
      const held = await broker.claimJob("holder", 30_000);
      assert.ok(held);
      const done = await broker.claimJob("gone", 30_000);
      assert.ok(done);
      await broker.ackJob(done);
      assert.deepEqual(await consumers(), ["gone", "holder"]);
      // Past the (here zero) silence, the next claim sweeps: only "gone" holds nothing.
      await new Promise((r) => setTimeout(r, 5));
      assert.equal(await broker.claimJob("third", 30_000), null);
      // The sweep runs beside the claim, not before its answer.
      let left = await consumers();
      for (let i = 0; i < 100 && left.includes("gone"); i++) {
        await new Promise((r) => setTimeout(r, 20));
        left = await consumers();
      }
      assert.ok(!left.includes("gone"), "the departed worker was removed");
      assert.ok(left.includes("holder"), "the worker holding a job stays");

      await raw.del("wattcast:jobs");
      const task = sampleTask();
      await broker.createTask(task, jobOf(task));
      const again = await broker.claimJob("fourth", 30_000);
      assert.equal(again?.job.task_id, task.task_id, "the queue and its group were made again");
    } finally {
      raw.disconnect();
      await broker.close();
      await gateway.close();
      await redis.stop();
    }
  },
});
