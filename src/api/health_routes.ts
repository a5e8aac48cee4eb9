/**
 * `GET /health`: whether the service and each dependency is up. Every probe
 * runs at once and gets `timeoutMs`: a dependency that does not answer in
 * time (Redis stopped, a gateway frozen) is reported down, so the answer
 * always comes within that bound and says `503 degraded`, naming it.
 *
 * @module
 */
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { errorResponses, jsonContent } from "./openapi.ts";
import { healthSchema } from "./openapi_schemas.ts";

/** One dependency's health probe. */
export interface HealthCheck {
  /** Name in the report, such as `broker`. */
  name: string;
  /** Facts about the dependency; throws when it is down. */
  check(): Promise<Record<string, unknown>>;
}

/** How long a dependency may take to answer before it counts as down. */
export const HEALTH_TIMEOUT_MS = 2000;

/** `GET /health/`. */
export const healthRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["service"],
  summary: "Whether the service and each dependency is up",
  description:
    "Each dependency with `up` (`broker` also says which store, `kind`, and where, `location`); `event_streams` counts open streams and dropped slow clients. Always answers within about 2 s.",
  responses: {
    200: {
      description: "Every dependency is up (`status: ok`)",
      content: jsonContent(healthSchema),
    },
    503: {
      description: "A dependency is down or did not answer in time (`status: degraded`)",
      content: jsonContent(healthSchema),
    },
    500: errorResponses({})[500],
  },
});

/** Builds the `/health` routes. */
export function createHealthRoutes(
  info: Record<string, unknown>,
  checks: HealthCheck[],
  timeoutMs = HEALTH_TIMEOUT_MS,
): OpenAPIHono {
  const routes = new OpenAPIHono({ strict: false });
  routes.openapi(healthRoute, async (c) => {
    const dependencies: Record<string, { up: boolean; [fact: string]: unknown }> = {};
    let healthy = true;
    await Promise.all(checks.map(async ({ name, check }) => {
      const started = performance.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`did not answer within ${timeoutMs / 1000} s`)),
          timeoutMs,
        );
      });
      try {
        const facts = await Promise.race([check(), late]);
        dependencies[name] = {
          up: true,
          latency_ms: Math.round((performance.now() - started) * 100) / 100,
          ...facts,
        };
      } catch (error) {
        healthy = false;
        dependencies[name] = {
          up: false,
          error: error instanceof Error ? error.message : String(error),
        };
      } finally {
        clearTimeout(timer);
      }
    }));
    const report = { ...info, time: new Date().toISOString(), dependencies };
    return healthy
      ? c.json({ status: "ok" as const, ...report }, 200)
      : c.json({ status: "degraded" as const, ...report }, 503);
  });
  return routes;
}
