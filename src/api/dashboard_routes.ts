/**
 * The dashboard: `GET /` answers a browser (an `Accept` that ranks
 * `text/html` above `application/json`) with a single page, and every other
 * client with the JSON list of endpoints as before (`Vary: Accept`).
 *
 * The page's scripts, styles and uPlot (the chart library, from its npm
 * package) are files imported as text and served by the app under
 * `/assets/`, so the page works with no internet access. Each asset's URL
 * carries a hash of its content (`app.3f2a9c01de.js`): assets are cached
 * for a year, and a changed file gets a new URL. The ES modules import each
 * other by those URLs (rewritten here, dependencies first), so a change in
 * one module reaches the modules importing it too.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context, Next } from "hono";
import indexHtml from "../dashboard/index.html" with { type: "text" };
import appCss from "../dashboard/app.css" with { type: "text" };
import appJs from "../dashboard/app.js" with { type: "text" };
import apiJs from "../dashboard/api.js" with { type: "text" };
import chartsJs from "../dashboard/charts.js" with { type: "text" };
import liveJs from "../dashboard/live.js" with { type: "text" };
import tasksJs from "../dashboard/tasks.js" with { type: "text" };
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import { METER_TYPES } from "../domain/meter.ts";
import { DEMO_METERS } from "../meters/demo_meters.ts";
import { ApiError } from "./errors.ts";
import { errorResponses } from "./openapi.ts";

const TYPES = { js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8" } as const;

/** The page's files, each after the files it imports. */
const SOURCES: [name: string, body: string][] = [
  ["uplot.js", uplotJs],
  ["uplot.css", uplotCss],
  ["app.css", appCss],
  ["api.js", apiJs],
  ["charts.js", chartsJs],
  ["live.js", liveJs],
  ["tasks.js", tasksJs],
  ["app.js", appJs],
];

/** A served asset. */
export interface DashboardAsset {
  /** Its URL, under `/assets/`, with the hash of its content. */
  url: string;
  body: string;
  type: string;
}

/** Each asset by its file name in the source (`app.js`); built once, at import. */
export const DASHBOARD_ASSETS: ReadonlyMap<string, DashboardAsset> = buildAssets();

function buildAssets(): Map<string, DashboardAsset> {
  const assets = new Map<string, DashboardAsset>();
  for (const [name, source] of SOURCES) {
    const body = source.replace(/from "\.\/([a-z_]+\.js)"/g, (_, file: string) => {
      const dependency = assets.get(file);
      if (!dependency) throw new Error(`dashboard: ${name} imports ${file}, listed after it`);
      return `from "${dependency.url}"`;
    });
    const hash = createHash("sha256").update(body).digest("hex").slice(0, 10);
    const [base, ext] = name.split(".") as [string, keyof typeof TYPES];
    assets.set(name, { url: `/assets/${base}.${hash}.${ext}`, body, type: TYPES[ext] });
  }
  return assets;
}

/** The assets by their served file name (`app.3f2a9c01de.js`). */
const BY_FILE = new Map(
  [...DASHBOARD_ASSETS.values()].map((asset) => [asset.url.slice("/assets/".length), asset]),
);

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page, with asset URLs, meter types and demo meters filled in. */
export const DASHBOARD_PAGE: string = indexHtml.replace(
  /\{\{\s*([a-z_.]+)\s*\}\}/g,
  (_, key: string) => {
    const asset = DASHBOARD_ASSETS.get(key);
    if (asset) return asset.url;
    if (key === "meter_type_options") {
      return METER_TYPES.map((t) => `<option value="${t}">${t}</option>`).join("");
    }
    if (key === "demo_options") {
      return DEMO_METERS.map((m) => `<option value="${escapeHtml(m.meter_id)}"></option>`).join("");
    }
    if (key === "demo_buttons") {
      return DEMO_METERS.map((m) => {
        const value = escapeHtml(
          JSON.stringify({ meter_id: m.meter_id, meter_type: m.meter_type }),
        );
        return `<button type="button" class="secondary" data-demo-meter="${value}">${
          escapeHtml(m.meter_id)
        } (${m.meter_type})</button>`;
      }).join("\n      ");
    }
    throw new Error(`dashboard: index.html names an unknown {{${key}}}`);
  },
);

/** Scripts, styles and connections to this origin only (uPlot sets inline styles). */
const PAGE_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'self'";

/** The quality (`q`) an `Accept` header gives a media type: its most specific matching range's. */
function quality(ranges: { type: string; q: number }[], mime: string): number {
  const major = mime.split("/")[0];
  let best = 0, specificity = -1;
  for (const range of ranges) {
    const level = range.type === mime
      ? 2
      : range.type === `${major}/*`
      ? 1
      : range.type === "*/*"
      ? 0
      : -1;
    if (level > specificity) [specificity, best] = [level, range.q];
  }
  return best;
}

/** True when an `Accept` header ranks `text/html` above `application/json` (a browser). */
export function prefersHtml(accept: string | undefined | null): boolean {
  if (!accept) return false;
  const ranges = accept.split(",").map((part) => {
    const [type, ...params] = part.split(";").map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith("q="));
    const value = q === undefined ? 1 : Number(q.slice(2));
    return { type, q: Number.isFinite(value) ? value : 0 };
  });
  return quality(ranges, "text/html") > quality(ranges, "application/json");
}

/** `GET /assets/{file}`. */
export const dashboardAssetRoute = createRoute({
  method: "get",
  path: "/assets/{file}",
  tags: ["service"],
  summary: "A file of the dashboard (script, style, chart library)",
  request: {
    params: z.object({
      file: z.string().meta({
        description: "The file, its name holding a hash of its content",
        example: DASHBOARD_ASSETS.get("app.js")!.url.slice("/assets/".length),
      }),
    }),
  },
  responses: {
    200: {
      description: "The file, cached for a year (a changed file gets a new URL)",
      content: {
        "text/javascript": { schema: z.string() },
        "text/css": { schema: z.string() },
      },
    },
    ...errorResponses({ 404: "No such file, or an older version of one (`not_found`)" }),
  },
});

/** Answers a browser's `GET /` with the page; any other client goes on to the endpoint list. */
async function negotiate(c: Context, next: Next): Promise<Response | void> {
  if (!prefersHtml(c.req.header("Accept"))) {
    await next();
    c.res.headers.append("Vary", "Accept");
    return;
  }
  // Appended, so that a `Vary: Origin` from the CORS middleware stays.
  c.header("Vary", "Accept", { append: true });
  return c.html(DASHBOARD_PAGE, 200, {
    "Content-Security-Policy": PAGE_POLICY,
    "Cache-Control": "no-cache",
  });
}

/** Builds the dashboard routes: the page at `/` (for browsers) and `/assets/{file}`. */
export function createDashboardRoutes(): OpenAPIHono {
  const routes = new OpenAPIHono({ strict: false });
  routes.get("/", negotiate);
  routes.openapi(dashboardAssetRoute, (c) => {
    const file = c.req.valid("param").file;
    const asset = BY_FILE.get(file);
    if (!asset) {
      throw new ApiError(
        404,
        "not_found",
        `There is no /assets/${file.slice(0, 64)}; the dashboard is GET / (in a browser).`,
      );
    }
    return c.body(asset.body, 200, {
      "Content-Type": asset.type,
      "Cache-Control": "public, max-age=31536000, immutable",
    });
  });
  return routes;
}
