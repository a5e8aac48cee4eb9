import { brokerConformance } from "./broker_conformance.ts";
import { needsRedis } from "../../tests/redis_server.ts";
import { startRedisBroker } from "../../tests/test_brokers.ts";

// The same conformance suite as the memory broker, against a real
// redis-server behind the REST gateway, through @upstash/redis.
brokerConformance("redis", (options) => startRedisBroker({ livenessMs: 500, ...options }), {
  testOptions: needsRedis(),
});
