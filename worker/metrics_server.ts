/**
 * A worker's own HTTP server for its metrics: `GET /metrics` (with
 * `METRICS_TOKEN` as a Bearer token when set, as on the API) and nothing
 * else, on `WORKER_METRICS_PORT`.
 *
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { createMetricsRoutes } from "../src/api/metrics_routes.ts";
import { ApiError, sendError } from "../src/api/errors.ts";
import type { WorkerMetrics } from "../src/metrics/worker_metrics.ts";
import { logger } from "../src/logging/logging.ts";

const log = logger("worker");

/** A running metrics server. */
export interface MetricsServer {
  /** Its base URL, such as `http://0.0.0.0:9100`. */
  url: string;
  /** Stops it. */
  close(): Promise<void>;
}

/** Serves `metrics` at `/metrics` on `hostname:port` (0: a free port). */
export async function serveWorkerMetrics(
  metrics: WorkerMetrics,
  options: { hostname: string; port: number; token: string | null },
): Promise<MetricsServer> {
  const app = new OpenAPIHono({ strict: false });
  app.route("/metrics", createMetricsRoutes(metrics, options.token));
  app.notFound((c) =>
    sendError(
      c,
      new ApiError(404, "not_found", "A worker serves only GET /metrics.", null),
    )
  );
  app.onError((error, c) => {
    if (error instanceof ApiError) return sendError(c, error);
    // The cause goes to the log, not to whoever scraped: it may name hosts or credentials.
    log.error("The worker's metrics could not be read: {error}", { error });
    return sendError(
      c,
      new ApiError(
        500,
        "internal_error",
        "The metrics could not be read; the worker's log says why.",
        null,
      ),
    );
  });
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    onListen: (addr) => resolve(addr as Deno.NetAddr),
  }, app.fetch);
  const addr = await listening;
  return {
    url: `http://${
      addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname
    }:${addr.port}`,
    close: () => server.shutdown(),
  };
}
