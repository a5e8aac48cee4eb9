/**
 * `GET /docs`: the interactive API page (Swagger UI) on `/openapi.json`.
 * Swagger UI's files come from the `swagger-ui-dist` package, imported as
 * text and served by the app itself, so the page works offline and behind
 * firewalls, with no CDN. Only the files are imported, never the package's
 * main module (it pulls in a telemetry package).
 *
 * The page's own start-up script is a file too (`/docs/swagger-initializer.js`),
 * not inline, so the page runs under a Content-Security-Policy that allows
 * scripts from this origin only. Asset URLs carry the package's version, so
 * they are cached for a year and an upgrade is fetched at once.
 *
 * @module
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import bundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "text" };
import css from "swagger-ui-dist/swagger-ui.css" with { type: "text" };
import swaggerPackage from "swagger-ui-dist/package.json" with { type: "json" };
import { ApiError } from "./errors.ts";
import { errorResponses } from "./openapi.ts";

/** Where the document the page shows is served. */
export const OPENAPI_PATH = "/openapi.json";

const INITIALIZER = `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(OPENAPI_PATH)},
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
`;

/** The files under `/docs/`, with their content types. */
const ASSETS: Record<string, { body: string; type: string }> = {
  "swagger-ui-bundle.js": { body: bundle, type: "text/javascript; charset=utf-8" },
  "swagger-ui.css": { body: css, type: "text/css; charset=utf-8" },
  "swagger-initializer.js": { body: INITIALIZER, type: "text/javascript; charset=utf-8" },
};

const version = encodeURIComponent(swaggerPackage.version);

/** The `/docs/…` URL of an asset, versioned. */
function assetUrl(file: string): string {
  return `/docs/${file}?v=${version}`;
}

/** The page: every asset from this origin. */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Wattcast API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetUrl("swagger-ui.css")}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${assetUrl("swagger-ui-bundle.js")}"></script>
<script src="${assetUrl("swagger-initializer.js")}"></script>
</body>
</html>
`;

/** Scripts and styles from this origin only; Swagger UI sets inline styles and data: images. */
const PAGE_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'self'";

/** `GET /docs`. */
export const docsPageRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["service"],
  summary: "This documentation, as an interactive page (Swagger UI)",
  responses: {
    200: {
      description: "The page; its scripts and styles come from `/docs/{file}`",
      content: { "text/html": { schema: z.string() } },
    },
    500: errorResponses({})[500],
  },
});

/** `GET /docs/{file}`. */
export const docsAssetRoute = createRoute({
  method: "get",
  path: "/{file}",
  tags: ["service"],
  summary: "A file of the documentation page",
  request: {
    params: z.object({
      file: z.string().meta({ enum: Object.keys(ASSETS), description: "The file" }),
    }),
  },
  responses: {
    200: {
      description: "The file, cached for a year (its URL carries the version)",
      content: {
        "text/javascript": { schema: z.string() },
        "text/css": { schema: z.string() },
      },
    },
    ...errorResponses({ 404: "No such file (`not_found`)" }, { open: true }),
  },
});

/** Builds the `/docs` routes. */
export function createDocsRoutes(): OpenAPIHono {
  const routes = new OpenAPIHono({ strict: false });
  routes.openapi(docsPageRoute, (c) => {
    c.header("Content-Security-Policy", PAGE_POLICY);
    c.header("Cache-Control", "no-cache");
    return c.html(PAGE);
  });
  routes.openapi(docsAssetRoute, (c) => {
    const file = c.req.valid("param").file;
    const asset = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!asset) {
      throw new ApiError(
        404,
        "not_found",
        `There is no /docs/${file.slice(0, 64)}; the page is GET /docs.`,
      );
    }
    return c.body(asset.body, 200, {
      "Content-Type": asset.type,
      "Cache-Control": "public, max-age=31536000, immutable",
    });
  });
  return routes;
}
