import { brokerConformance } from "./broker_conformance.ts";
import { createRedisBroker } from "./redis_broker.ts";
import { serveGateway } from "../gateway/serve_gateway.ts";
import { needsRedis, startRedis } from "../../tests/redis_server.ts";

// The same conformance suite as the memory broker, against a real
// redis-server behind the REST gateway, through @upstash/redis.
brokerConformance("redis", async (options) => {
  const redis = await startRedis();
  const gateway = await serveGateway({ redisUrl: redis.url, token: "conformance", port: 0 });
  const broker = await createRedisBroker({
    url: gateway.url,
    token: "conformance",
    livenessMs: 500,
    ...options,
  });
  const close = broker.close;
  broker.close = async () => {
    await close();
    await gateway.close();
    await redis.stop();
  };
  return broker;
}, { testOptions: needsRedis() });
