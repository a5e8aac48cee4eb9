/**
 * `deno task gateway`: serves the Upstash REST protocol on `PORT`,
 * forwarding to `REDIS_URL`; clients authenticate with
 * `UPSTASH_REDIS_REST_TOKEN` (or, for reads only, `GATEWAY_READONLY_TOKEN`).
 *
 * @module
 */
import { ConfigError, parseConfig } from "../config.ts";
import { serveGateway } from "./serve_gateway.ts";
import { closeLogging, setUpLogging } from "../logging/logging.ts";

let config;
try {
  config = parseConfig(Deno.env.toObject());
  if (!config.redisUrl) {
    throw new ConfigError(
      "Invalid configuration: REDIS_URL is not set; set it to the Redis server the gateway forwards to, such as redis://127.0.0.1:6379.",
    );
  }
  if (!config.redisRestToken) {
    throw new ConfigError(
      "Invalid configuration: UPSTASH_REDIS_REST_TOKEN is not set; set it to the token clients must send (Authorization: Bearer <token>).",
    );
  }
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  Deno.exit(1);
}

// To the console only: the gateway runs without write permission (`deno task gateway`).
await setUpLogging({ format: config.logFormat, file: null, dir: null, debug: config.debug });
const server = await serveGateway({
  redisUrl: config.redisUrl!,
  token: config.redisRestToken!,
  readOnlyToken: config.gatewayReadOnlyToken,
  scripts: config.gatewayScripts,
  port: config.port,
  hostname: config.host,
});
console.log(`Wattcast REST gateway on ${server.url}, forwarding to ${config.redisUrl}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, async () => {
    await server.close();
    await closeLogging();
    Deno.exit(0);
  });
}
