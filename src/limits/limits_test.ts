import assert from "node:assert/strict";
import { ANONYMOUS } from "../domain/principal.ts";
import { parseConfig } from "../config.ts";
import { needsRedis } from "../../tests/redis_server.ts";
import { startTestGateway } from "../../tests/test_gateway.ts";
import { limitKey, openLimits } from "./limits.ts";

Deno.test("a request is counted under the principal's name, or the address when anonymous", () => {
  assert.equal(limitKey(ANONYMOUS, "10.0.0.7"), "addr:10.0.0.7");
  assert.equal(
    limitKey({ name: "meters-team", via: "api_key" }, "10.0.0.7"),
    "principal:meters-team",
  );
  assert.equal(limitKey({ name: "10.0.0.7", via: "jwt" }, "10.0.0.8"), "principal:10.0.0.7");
});

Deno.test("embedded limits follow the configuration", async () => {
  const config = parseConfig({ RATE_LIMIT_TRAIN_PER_MINUTE: "1", STREAM_LIMIT_PER_PRINCIPAL: "1" });
  const limits = openLimits(config, null);
  try {
    assert.equal((await limits.rates.limit("k", "train")).allowed, true);
    assert.equal((await limits.rates.limit("k", "train")).allowed, false);
    assert.equal(limits.rates.policies.forecast.limit, 120);
    const slot = await limits.streams.acquire("k");
    assert.equal((await limits.streams.acquire("k")).acquired, false);
    await slot.slot!.release();
  } finally {
    await limits.close();
  }
});

Deno.test({
  name: "limits on Redis are shared by two processes' worth of limiters",
  ...needsRedis(),
  fn: async () => {
    const gateway = await startTestGateway();
    const config = parseConfig({
      RATE_LIMIT_TRAIN_PER_MINUTE: "2",
      STREAM_LIMIT_PER_PRINCIPAL: "1",
    });
    const a = openLimits(config, gateway);
    const b = openLimits(config, gateway);
    try {
      const first = await a.rates.limit("k", "train");
      assert.equal(first.allowed, true);
      assert.equal(first.remaining, 1);
      // Windows are aligned to the clock: if one ended between the calls, b starts a new one.
      const second = await b.rates.limit("k", "train");
      assert.equal(second.allowed, true);
      assert.equal(second.remaining, second.resetMs === first.resetMs ? 0 : 1);
      const slot = await a.streams.acquire("k");
      assert.equal(slot.acquired, true);
      assert.equal((await b.streams.acquire("k")).acquired, false);
      await slot.slot!.release();
      assert.equal(await b.streams.held("k"), 0);
    } finally {
      await a.close();
      await b.close();
      await gateway.close();
    }
  },
});
