/**
 * `GET /health`: whether the service and each dependency is up. Every probe
 * runs at once and gets `timeoutMs`: a dependency that does not answer in
 * time (Redis stopped, a gateway frozen) is reported down, so the answer
 * always comes within that bound and says `503 degraded`, naming it.
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

/** How long a dependency may take to answer before it counts as down. */
export const HEALTH_TIMEOUT_MS = 2000;

/** Builds the `/health` routes. */
export function createHealthRoutes(
  info: Record<string, unknown>,
  checks: HealthCheck[],
  timeoutMs = HEALTH_TIMEOUT_MS,
): Hono {
  const routes = new Hono({ strict: false });
  routes.get("/", async (c) => {
    const dependencies: Record<string, Record<string, unknown>> = {};
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
    return c.json({
      status: healthy ? "ok" : "degraded",
      ...info,
      time: new Date().toISOString(),
      dependencies,
    }, healthy ? 200 : 503);
  });
  return routes;
}
