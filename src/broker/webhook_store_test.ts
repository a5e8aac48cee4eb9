import assert from "node:assert/strict";
import { SETTLED_DELIVERY_TTL_SECONDS } from "./webhook_store.ts";
import { openSqliteBroker } from "./sqlite_broker.ts";
import type { Broker } from "./broker.ts";
import { sampleDelivery, webhookStoreConformance } from "./webhook_store_conformance.ts";
import { createMemoryBroker } from "./memory_broker.ts";
import { needsRedis } from "../../tests/redis_server.ts";
import { startRedisBroker, startSqliteBroker } from "../../tests/test_brokers.ts";

webhookStoreConformance(
  "memory",
  () => Promise.resolve(createMemoryBroker({ taskTtlSeconds: 60 })),
);
webhookStoreConformance("sqlite", () => startSqliteBroker({ taskTtlSeconds: 60 }));
webhookStoreConformance(
  "redis",
  () => startRedisBroker({ taskTtlSeconds: 60, livenessMs: 500 }),
  needsRedis(),
);

for (
  const [name, open] of [
    ["memory", (now: () => number) => createMemoryBroker({ taskTtlSeconds: 60, now })],
    ["sqlite", (now: () => number) => {
      const dir = Deno.makeTempDirSync({ prefix: "wattcast-webhook-" });
      const broker = openSqliteBroker({ path: `${dir}/wattcast.db`, taskTtlSeconds: 60, now });
      const close = broker.close;
      broker.close = async () => {
        await close();
        await Deno.remove(dir, { recursive: true });
      };
      return broker;
    }],
  ] as [string, (now: () => number) => Broker][]
) {
  Deno.test(`${name} webhook store: settled deliveries are forgotten after the retention, pending ones never`, async () => {
    let clock = Date.now();
    const broker = open(() => clock);
    try {
      const { webhooks } = broker;
      const settled = sampleDelivery({ next_attempt_at: clock });
      const pending = sampleDelivery({ next_attempt_at: clock + 10 * 86_400_000 });
      await webhooks.enqueue(settled);
      await webhooks.enqueue(pending);
      const [claimed] = (await webhooks.claimDue("a", clock, 1000, 10)).claimed;
      const attempt = {
        attempt: 1,
        at: new Date(clock).toISOString(),
        status_code: 200,
        error: null,
        duration_ms: 1,
      };
      await webhooks.finishAttempt(
        { ...claimed, state: "delivered", next_attempt_at: null, history: [attempt] },
        "a",
      );
      clock += SETTLED_DELIVERY_TTL_SECONDS * 1000 - 60_000;
      await webhooks.enqueue(sampleDelivery());
      assert.ok(await webhooks.getDelivery(settled.id), "kept within the retention");
      clock += 120_000;
      await webhooks.enqueue(sampleDelivery());
      assert.equal(await webhooks.getDelivery(settled.id), null, "forgotten after it");
      assert.ok(await webhooks.getDelivery(pending.id), "a pending one stays");
    } finally {
      await broker.close();
    }
  });
}
