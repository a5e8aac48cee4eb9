/**
 * Which scope each route needs once authentication is on, in one table, and
 * which routes need none. A route missing from the table needs `read` when
 * it only reads (GET, HEAD) and `admin` otherwise, so a new route is never
 * open by accident.
 *
 * @module
 */
import type { Scope } from "../domain/principal.ts";

/**
 * Paths answered to anyone: the health probe, the metrics (which check
 * `METRICS_TOKEN` themselves, `metrics_routes.ts`), and static pages a browser
 * opens without a way to send a header: the dashboard's page and assets,
 * the API documentation (`/docs`, `/openapi.json`; the contract is no
 * secret, and the data behind it still needs credentials).
 */
export function isPublic(method: string, path: string): boolean {
  if (method === "OPTIONS") return true; // CORS preflights carry no credentials
  if (path === "/health" || path.startsWith("/health/")) return true;
  if (path === "/metrics" || path === "/metrics/") return true;
  if (method !== "GET" && method !== "HEAD") return false;
  return path === "/" || path.startsWith("/assets/") || path === "/openapi.json" ||
    path === "/docs" || path.startsWith("/docs/");
}

/** The stream endpoints: the only ones that take a `?token=` stream token. */
export function isStreamPath(path: string): boolean {
  return /^\/trainmodel\/(stream(\/[^/]+)?|events)\/?$/.test(path);
}

/** `/trainmodel/`: where tasks are started (POST). */
export const TASKS_PATH = /^\/trainmodel\/?$/;

/** `/trainmodel/batch`: where a group of tasks is started (POST). */
export const BATCH_PATH = /^\/trainmodel\/batch\/?$/;

/** `/meters/{meter_type}/{meter_id}/readings`: a meter's readings. */
export const READINGS_PATH = /^\/meters\/[^/]+\/[^/]+\/readings\/?$/;

/** `/sites/{site_id}/weather`: a site's temperatures. */
export const SITE_WEATHER_PATH = /^\/sites\/[^/]+\/weather\/?$/;

/** `/sites/{site_id}/calendar`: a site's working calendar. */
export const SITE_CALENDAR_PATH = /^\/sites\/[^/]+\/calendar\/?$/;

const TABLE: [method: string, path: RegExp, scope: Scope][] = [
  ["POST", TASKS_PATH, "train"],
  ["POST", BATCH_PATH, "train"],
  ["DELETE", /^\/trainmodel\/[^/]+\/?$/, "train"],
  ["POST", READINGS_PATH, "train"],
  ["DELETE", READINGS_PATH, "train"],
  ["DELETE", /^\/meters\/[^/]+\/[^/]+\/?$/, "admin"],
  ["PUT", /^\/meters\/[^/]+\/[^/]+\/?$/, "train"],
  ["POST", SITE_WEATHER_PATH, "train"],
  // A site's calendar is written like its weather; read like it, with `read`.
  ["PUT", SITE_CALENDAR_PATH, "train"],
  ["DELETE", SITE_CALENDAR_PATH, "train"],
  ["POST", /^\/auth\/stream-token\/?$/, "read"],
  // Subscriptions hold signing keys and send the service's events outside: admin only, reads too.
  ["GET", /^\/webhooks(\/.*)?$/, "admin"],
  ["POST", /^\/webhooks(\/.*)?$/, "admin"],
  ["DELETE", /^\/webhooks(\/.*)?$/, "admin"],
];

/** The scope a request needs. */
export function scopeFor(method: string, path: string): Scope {
  for (const [m, pattern, scope] of TABLE) if (m === method && pattern.test(path)) return scope;
  return method === "GET" || method === "HEAD" ? "read" : "admin";
}
