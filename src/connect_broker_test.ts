import assert from "node:assert/strict";
import { parseConfig } from "./config.ts";
import { connectBroker } from "./connect_broker.ts";

const embedded = { allowEmbedded: true, allowLocalGateway: false };

Deno.test("embedded mode keeps its data in DATA_DIR/wattcast.db; DATA_DIR=off runs in memory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const onDisk = await connectBroker(parseConfig({ DATA_DIR: dir }), embedded);
    assert.equal(onDisk.mode, "embedded");
    assert.equal(onDisk.broker.kind, "sqlite");
    assert.equal(onDisk.broker.location, `${dir}/wattcast.db`);
    assert.match(onDisk.description, /SQLite at .*wattcast\.db/);
    await onDisk.broker.close();
    assert.ok((await Deno.stat(`${dir}/wattcast.db`)).size > 0, "the file is there");

    const inMemory = await connectBroker(parseConfig({ DATA_DIR: "off" }), embedded);
    assert.equal(inMemory.broker.kind, "memory");
    assert.equal(inMemory.broker.location, null);
    assert.match(inMemory.description, /nothing is kept/);
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
