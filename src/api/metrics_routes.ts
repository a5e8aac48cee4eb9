/**
 * `GET /metrics`: the process's metrics in the Prometheus text format
 * (`src/metrics/metrics.ts`). Outside the API's authentication (a scraper
 * has no API key): open like `/health`, or, when `METRICS_TOKEN` is set,
 * only with `Authorization: Bearer <METRICS_TOKEN>`.
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Metrics } from "../metrics/metrics.ts";
import { ApiError } from "./errors.ts";
import { errorResponses } from "./openapi.ts";

/** The content type of the Prometheus text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** `GET /metrics`. */
export const metricsRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["service"],
  summary: "Metrics in the Prometheus text format",
  description:
    "Requests by route and status and their durations (a stream: how long it stayed open), open streams, events delivered and their delivery delay, task status changes, tasks by status, the job queue's depth and oldest job, broker calls and Redis commands with their errors, training durations, rate-limit refusals and the process's own figures. Open like /health unless METRICS_TOKEN is set; then it needs `Authorization: Bearer <METRICS_TOKEN>`.",
  responses: {
    200: {
      description: "The metrics, Prometheus text format 0.0.4",
      content: { "text/plain": { schema: z.string() } },
    },
    ...errorResponses(
      { 401: "METRICS_TOKEN is set and the request did not send it as a Bearer token" },
      { open: true },
    ),
  },
});

const encoder = new TextEncoder();

/** True when `header` is `Bearer <token>`, compared in constant time. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? "");
  if (!match) return false;
  const given = encoder.encode(match[1]);
  const wanted = encoder.encode(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** Builds the `/metrics` route; `token` null for an open one. */
export function createMetricsRoutes(
  metrics: Pick<Metrics, "render">,
  token: string | null,
): OpenAPIHono {
  const routes = new OpenAPIHono({ strict: false });
  routes.openapi(metricsRoute, async (c) => {
    if (token !== null && !bearerMatches(c.req.header("Authorization"), token)) {
      throw new ApiError(
        401,
        "metrics_token_required",
        "GET /metrics needs the metrics token: send Authorization: Bearer <METRICS_TOKEN>.",
        null,
        { "WWW-Authenticate": 'Bearer realm="wattcast-metrics"' },
      );
    }
    return c.text(await metrics.render(), 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE });
  });
  return routes;
}
