/**
 * The OpenAPI 3.1 document of the API, and what its routes share to be
 * described: the answers of every status code in one error shape, the event
 * stream's media type, the hook that turns a failed zod validation into the
 * API's 422.
 *
 * Each route module declares its routes with `createRoute` and registers
 * them with `app.openapi(route, handler)` (or, where the handler reads the
 * body itself, with `openAPIRegistry.registerPath`), so the document is
 * generated from the same zod schemas that validate requests.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ZodError, ZodType } from "zod";
import { type FieldProblem, fieldProblems, validationError } from "./errors.ts";
import { errorBodySchema, streamEventSchema } from "./openapi_schemas.ts";

/** The version of the API contract the document states. */
export const API_VERSION = "1.0.0";

/** Status codes the API answers with the error body, and what each means in general. */
const ERROR_MEANINGS = {
  400: "Bad request",
  401:
    "No credentials, or bad ones (`unauthorized`, `invalid_credentials`, `stream_token_expired`), when authentication is on",
  403:
    "Valid credentials without the route's scope, or for another meter or task (`forbidden_scope`, `forbidden_meter`, `forbidden_task`)",
  404: "Not found",
  409: "Conflict",
  413: "The body is too large",
  415: "Unsupported media type",
  422: "Invalid request: `error.details.fields` names each bad field",
  429: "Too many requests from this caller; `Retry-After` says when to try again",
  500: "The server failed; the error is in the service log",
  503: "Unavailable",
} as const;

/** A status code answered with the error body. */
export type ErrorStatus = keyof typeof ERROR_MEANINGS;

/** `{"application/json": {schema}}`. */
export function jsonContent<T extends ZodType>(schema: T) {
  return { "application/json": { schema } };
}

/**
 * The error answers of a route, each in the one error shape with what it
 * means for this route; `500` is added to every route, `401` and `403` to
 * every route that needs credentials when authentication is on (all but
 * `open` ones).
 */
export function errorResponses(
  meanings: Partial<Record<ErrorStatus, string>>,
  { open = false }: { open?: boolean } = {},
) {
  const responses: Record<string, {
    description: string;
    content: ReturnType<typeof jsonContent<typeof errorBodySchema>>;
    headers?: Record<string, { description: string; schema: { type: "integer" | "string" } }>;
  }> = {};
  const auth = open ? {} : { 401: ERROR_MEANINGS[401], 403: ERROR_MEANINGS[403] };
  for (
    const [status, meaning] of Object.entries({ ...auth, ...meanings, 500: ERROR_MEANINGS[500] })
  ) {
    responses[status] = {
      description: meaning ?? ERROR_MEANINGS[Number(status) as ErrorStatus],
      content: jsonContent(errorBodySchema),
    };
  }
  if (responses[401]) {
    responses[401].headers = {
      "WWW-Authenticate": {
        description: 'The scheme: `Bearer realm="wattcast"`',
        schema: { type: "string" },
      },
    };
  }
  for (const status of [429, 503]) {
    if (!responses[status]) continue;
    responses[status].headers = {
      "Retry-After": {
        description: "Seconds to wait before trying again",
        schema: { type: "integer" },
      },
    };
  }
  return responses;
}

/** How an event stream is framed, for its `200` answer. */
const STREAM_FRAMING =
  "Server-Sent Events. Each event is a `data:` line holding one JSON object (a task status object, a heartbeat or an error event; no `event:` field, so EventSource.onmessage receives them all), then an `id:` line for status events (send it back as Last-Event-ID to resume), then a blank line.";

/** The `200` answer of an event stream: `text/event-stream` and what its events hold. */
export function eventStreamResponse(description: string) {
  return {
    description: `${description} ${STREAM_FRAMING}`,
    content: { "text/event-stream": { schema: streamEventSchema } },
  };
}

/**
 * The answer to a request that fails its zod schema: a 422 naming each bad
 * field, in the API's error shape (thrown, so the app's error handler
 * answers it like every other error).
 */
export function validationHook(
  result: { success: true } | { success: false; error: ZodError },
): void {
  if (!result.success) throw validationError(fieldProblems(result.error));
}

/**
 * `validationHook` for a route with both path and query parameters. The
 * route's validators run one part at a time, query first, and stop at the
 * first that fails; this hook then checks both parts so that the 422 names
 * every bad field, path parameters first (a bad meter type and a bad
 * `horizon` are both named, the meter type first).
 */
export function requestHook(request: { params?: ZodType; query?: ZodType }) {
  return (
    result: { success: true } | { success: false; error: ZodError },
    c: Context,
  ): undefined => {
    if (result.success) return undefined;
    const query = Object.fromEntries(
      Object.entries(c.req.queries()).map(([k, v]) => [k, v.length === 1 ? v[0] : v]),
    );
    const problems: FieldProblem[] = [];
    for (const [schema, value] of [[request.params, c.req.param()], [request.query, query]]) {
      const parsed = (schema as ZodType | undefined)?.safeParse(value);
      if (parsed?.success === false) problems.push(...fieldProblems(parsed.error));
    }
    throw validationError(problems.length ? problems : fieldProblems(result.error));
  };
}

/** The document's `info`, and where the interactive page is. */
const DOCUMENT_CONFIG = {
  openapi: "3.1.0",
  info: {
    title: "Wattcast API",
    version: API_VERSION,
    description:
      'Trains one energy-forecasting model per meter, streams the training live over Server-Sent Events, and serves forecasts from the models.\n\nEvery error has one shape: `{"error": {"code", "message", "details"}}`. Interactive page: [/docs](/docs).',
  },
  tags: [
    { name: "training", description: "Start, follow and cancel training tasks" },
    { name: "meters", description: "Readings and what is stored of each meter" },
    { name: "forecasts", description: "Forecasts from trained models" },
    {
      name: "sites",
      description:
        "Sites' outdoor temperature (for weather-aware models) and working calendar (public holidays and closures, forecast like weekend days), for the meters linked to them",
    },
    { name: "auth", description: "Stream tokens for browsers, when authentication is on" },
    { name: "service", description: "Health, the endpoint list and this documentation" },
  ],
} as const;

/** The OpenAPI 3.1 document of every route registered on `app` (and the apps it mounts). */
export function openApiDocument(app: OpenAPIHono): ReturnType<OpenAPIHono["getOpenAPI31Document"]> {
  return app.getOpenAPI31Document({
    ...DOCUMENT_CONFIG,
    info: { ...DOCUMENT_CONFIG.info },
    tags: [...DOCUMENT_CONFIG.tags],
  });
}

/** `GET /openapi.json`. */
export const openApiDocumentRoute = createRoute({
  method: "get",
  path: "/openapi.json",
  tags: ["service"],
  summary: "This document: the API contract, OpenAPI 3.1",
  responses: {
    200: {
      description: "The OpenAPI 3.1 document",
      content: jsonContent(
        z.looseObject({
          openapi: z.string(),
          info: z.looseObject({}),
          paths: z.looseObject({}).optional(),
        }),
      ),
    },
    500: errorResponses({})[500],
  },
});

/** Serves `app`'s document at `GET /openapi.json`, generated at the first request. */
export function serveOpenApiDocument(app: OpenAPIHono): void {
  let document: ReturnType<typeof openApiDocument> | undefined;
  app.openapi(openApiDocumentRoute, (c) => c.json(document ??= openApiDocument(app), 200));
}
