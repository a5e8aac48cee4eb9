/**
 * `GET /health`: whether the service and each dependency is up.
 *
 * @module
 */
import { Hono } from "hono";

/** One dependency's health probe. */
export interface HealthCheck {
  /** Name in the report, such as `broker`. */
  name: string;
  /** Facts about the dependency; throws when it is down. */
  check(): Promise<Record<string, unknown>>;
}

/** Builds the `/health` routes. */
export function createHealthRoutes(
  info: Record<string, unknown>,
  checks: HealthCheck[],
): Hono {
  const routes = new Hono({ strict: false });
  routes.get("/", async (c) => {
    const dependencies: Record<string, Record<string, unknown>> = {};
    let healthy = true;
    await Promise.all(checks.map(async ({ name, check }) => {
      const started = performance.now();
      try {
        const facts = await check();
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
      }
    }));
    return c.json({
      status: healthy ? "ok" : "degraded",
      ...info,
      time: new Date().toISOString(),
      dependencies,
    }, healthy ? 200 : 503);
  });
  return routes;
}
