import { webhookStoreConformance } from "./webhook_store_conformance.ts";
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
