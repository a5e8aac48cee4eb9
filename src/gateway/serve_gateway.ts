/**
 * Serves the REST gateway over HTTP, in its own process (`deno task
 * gateway`) or inside another (`deno task dev` with `REDIS_URL`, tests).
 *
 * @module
 */
import { createGateway, type Gateway, type GatewayOptions } from "./gateway.ts";

/** A gateway listening on a port. */
export interface GatewayServer {
  /** Its REST URL, `http://127.0.0.1:{port}`. */
  url: string;
  port: number;
  gateway: Gateway;
  /** Stops listening and releases Redis connections. */
  close(): Promise<void>;
}

/** Starts the gateway on `hostname:port` (port 0 picks a free one). */
export async function serveGateway(
  options: GatewayOptions & { port: number; hostname?: string },
): Promise<GatewayServer> {
  const gateway = createGateway(options);
  const { promise, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    port: options.port,
    hostname: options.hostname ?? "127.0.0.1",
    onListen: resolve,
  }, gateway.fetch);
  const addr = await promise;
  const host = addr.hostname === "0.0.0.0" ? "127.0.0.1" : addr.hostname;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    gateway,
    async close() {
      await gateway.close(); // ends subscription streams, so shutdown can finish
      await server.shutdown();
    },
  };
}
