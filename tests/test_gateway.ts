/**
 * A private `redis-server` with the REST gateway in front, for tests of
 * what runs through the gateway (`@upstash/ratelimit`, the limits).
 *
 * @module
 */
import { serveGateway } from "../src/gateway/serve_gateway.ts";
import type { GatewayOptions } from "../src/gateway/gateway.ts";
import { startRedis, type TestRedis } from "./redis_server.ts";

/** A gateway on its own redis-server. */
export interface TestGateway {
  /** The gateway's REST URL. */
  url: string;
  token: string;
  redis: TestRedis;
  /** Stops the gateway and the redis-server. */
  close(): Promise<void>;
}

/** Starts a redis-server and a gateway in front of it (default script policy unless given). */
export async function startTestGateway(
  options: Partial<Omit<GatewayOptions, "redisUrl" | "token">> = {},
): Promise<TestGateway> {
  const redis = await startRedis();
  const token = "test-gateway-token";
  const gateway = await serveGateway({ ...options, redisUrl: redis.url, token, port: 0 });
  return {
    url: gateway.url,
    token,
    redis,
    async close() {
      await gateway.close();
      await redis.stop();
    },
  };
}
