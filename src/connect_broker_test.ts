import assert from "node:assert/strict";
import { parseConfig } from "./config.ts";
import { connectBroker } from "./connect_broker.ts";
import { openLimits } from "./limits/limits.ts";
import { needsRedis, startRedis } from "../tests/redis_server.ts";

const embedded = { allowEmbedded: true, allowLocalGateway: false };

Deno.test("embedded mode keeps its data in DATA_DIR/wattcast.db; DATA_DIR=off runs in memory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const onDisk = await connectBroker(parseConfig({ DATA_DIR: dir }), embedded);
    assert.equal(onDisk.mode, "embedded");
    assert.equal(onDisk.broker.kind, "sqlite");
    assert.equal(onDisk.broker.location, `${dir}/wattcast.db`);
    assert.match(onDisk.description, /SQLite at .*wattcast\.db/);
    assert.equal(onDisk.rest, null, "no Redis endpoint in embedded mode");
    await onDisk.broker.close();
    assert.ok((await Deno.stat(`${dir}/wattcast.db`)).size > 0, "the file is there");

    const inMemory = await connectBroker(parseConfig({ DATA_DIR: "off" }), embedded);
    assert.equal(inMemory.broker.kind, "memory");
    assert.equal(inMemory.broker.location, null);
    assert.match(inMemory.description, /nothing is kept/);
    assert.equal(inMemory.rest, null);
    await inMemory.broker.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a process that needs Redis says so when none is configured", async () => {
  await assert.rejects(
    connectBroker(parseConfig({}), {
      allowEmbedded: false,
      allowLocalGateway: false,
      requiredFor: "a worker (deno task worker)",
    }),
    /a worker \(deno task worker\) needs Redis/,
  );
});

Deno.test({
  name: "in Redis mode the connection names the REST endpoint, which the limits use",
  ...needsRedis(),
  fn: async () => {
    const redis = await startRedis();
    const config = parseConfig({ REDIS_URL: redis.url, RATE_LIMIT_TRAIN_PER_MINUTE: "1" });
    const connection = await connectBroker(config, {
      allowEmbedded: true,
      allowLocalGateway: true,
    });
    try {
      assert.equal(connection.mode, "redis");
      assert.match(connection.rest!.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const limits = openLimits(config, connection.rest);
      const results = [
        await limits.rates.limit("k", "train"),
        await limits.rates.limit("k", "train"),
      ];
      assert.deepEqual(results.map((r) => [r.allowed, r.unavailable]), [[true, false], [
        false,
        false,
      ]]);
      await limits.close();
    } finally {
      await connection.broker.close();
      await redis.stop();
    }
  },
});
