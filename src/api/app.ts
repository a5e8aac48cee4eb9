/**
 * Builds the Hono app from its dependencies; routes are split by resource.
 *
 * @module
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import type { Broker } from "../broker/broker.ts";
import type { EventHub } from "../broker/event_hub.ts";
import type { TaskTracker } from "../tracker/tracker.ts";
import { ApiError, errorBody, sendError, validationError } from "./errors.ts";
import { createHealthRoutes, type HealthCheck } from "./health_routes.ts";
import { createTrainRoutes } from "./train_routes.ts";
import { createBatchRoutes } from "./batch_routes.ts";
import { createEventsRoutes } from "./events_routes.ts";
import { createMeterRoutes } from "./meter_routes.ts";
import { createForecastRoutes } from "./forecast_routes.ts";
import { createSiteRoutes } from "./site_routes.ts";
import type { Forecaster } from "../forecast/forecaster.ts";
import type { ModelStore } from "../models/model_store.ts";
import type { OpenStreams } from "./open_streams.ts";
import { createDocsRoutes } from "./docs_routes.ts";
import { createDashboardRoutes } from "./dashboard_routes.ts";
import { jsonContent, serveOpenApiDocument, validationHook } from "./openapi.ts";
import { endpointListSchema } from "./openapi_schemas.ts";
import type { Authenticator } from "../auth/authenticator.ts";
import { authenticate } from "./authenticate.ts";
import { createAuthRoutes, type StreamTokenTimes } from "./auth_routes.ts";
import type { QueueBounds } from "./queue_bounds.ts";
import type { Limits } from "../limits/limits.ts";
import { rateLimits } from "./rate_limit.ts";
import { TASK_ID_PATTERN } from "./request_schemas.ts";
import { createMetrics, type Metrics } from "../metrics/metrics.ts";
import { createMetricsRoutes } from "./metrics_routes.ts";
import { createWebhookRoutes, type WebhookRouteSettings } from "./webhook_routes.ts";
import {
  observeRequests,
  REQUEST_ID_HEADER,
  requestIdOf,
  type RequestObserver,
} from "./request_observer.ts";
import { logger } from "../logging/logging.ts";

const log = logger("http");

/** Everything the app needs. */
export interface AppDeps {
  broker: Broker;
  hub: EventHub;
  tracker: TaskTracker;
  models: ModelStore;
  forecaster: Forecaster;
  /** Dependency probes for `/health`. */
  health: HealthCheck[];
  /** Facts shown by `/health`, such as the mode. */
  info: Record<string, unknown>;
  /** The process's open streams (heartbeats, maximum duration, shutdown). */
  streams: OpenStreams;
  /** Unread bytes a stream's client may leave before the stream waits for it. */
  maxBufferedBytes: number;
  /** How long a stream waits for its client to catch up before dropping it. */
  stallMs: number;
  /** Gzip event streams for clients that accept it (`STREAM_GZIP`). */
  gzip?: boolean;
  /** Event streams this process holds at most; the next is a 503. */
  maxStreams: number;
  /** Seconds a finished task and its events are kept. */
  taskTtlSeconds: number;
  /** The span readings may fall in: from `earliest`, to `maxDaysAhead` days after now. */
  readingsSpan: { earliest: number; maxDaysAhead: number };
  /** `Access-Control-Allow-Origin`: `*` or one origin; null: `*` while authentication is off, same-origin only once it is on. */
  corsOrigin: string | null;
  debug: boolean;
  /** Proves callers; off until configured. */
  auth: Authenticator;
  /** How long stream tokens hold. */
  streamTokenTimes: StreamTokenTimes;
  /** Active training tasks there may be, in all and per principal. */
  queueBounds: QueueBounds;
  /** Request rates and open streams per principal. */
  limits: Limits;
  /** The metrics `/metrics` shows; absent: a registry of the app's own. */
  metrics?: Metrics;
  /** The bearer token `/metrics` needs; null or absent: open like `/health`. */
  metricsToken?: string | null;
  /** Called once per request when it is over (the request log); absent: none. */
  requestLog?: RequestObserver | null;
  /** How webhook targets are checked and whether per-task ones can be signed; absent: private targets refused, no WEBHOOK_SECRET. */
  webhooks?: WebhookRouteSettings;
  /** Wakes the process's webhook dispatcher (a replay is due, a subscription was added); absent: none runs here. */
  wakeWebhooks?: () => void;
}

/** Longest request URL read (path and query); a longer one is a `414`. Headers are capped by the HTTP server (16 KiB). */
export const MAX_URL_LENGTH = 8192;

/** `GET /`: the list of endpoints (browsers get the dashboard, `dashboard_routes.ts`). */
export const endpointListRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["service"],
  summary: "The list of endpoints",
  description: "JSON for programs; a browser asking for HTML may get a page instead.",
  responses: {
    200: {
      description: "The endpoints, by name",
      content: { ...jsonContent(endpointListSchema), "text/html": { schema: z.string() } },
    },
  },
});

/** Builds the HTTP API. */
export function createApp(appDeps: AppDeps): OpenAPIHono {
  const metrics = appDeps.metrics ?? createMetrics();
  const deps = {
    ...appDeps,
    metrics,
    webhooks: appDeps.webhooks ?? { allowPrivate: false, secret: null },
  };
  const app = new OpenAPIHono({ strict: false, defaultHook: validationHook });
  app.use(observeRequests([
    (r) => metrics.request(r.method, r.route, r.status, r.ms / 1000),
    ...(deps.requestLog ? [deps.requestLog] : []),
  ]));
  app.use(async (c, next) => {
    if (c.req.url.length <= MAX_URL_LENGTH) return await next();
    throw new ApiError(
      414,
      "url_too_long",
      `The URL is ${c.req.url.length} characters; at most ${MAX_URL_LENGTH} are read. Send fewer task ids or filters at once.`,
    );
  });
  app.use(cors({
    origin: deps.corsOrigin ?? (() => deps.auth.enabledNow() ? null : "*"),
    allowMethods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
    allowHeaders: ["Content-Type", "Last-Event-ID", "Authorization", REQUEST_ID_HEADER],
    exposeHeaders: ["Location", REQUEST_ID_HEADER],
    maxAge: 600,
  }));
  app.use(authenticate({
    auth: deps.auth,
    taskOf: async (id) =>
      TASK_ID_PATTERN.test(id) ? (await deps.tracker.get(id))?.task ?? null : null,
  }));
  app.use(rateLimits(deps.limits, metrics));

  // Browsers get the dashboard at `/`; other clients, the endpoint list below.
  app.route("/", createDashboardRoutes());
  app.openapi(endpointListRoute, (c) =>
    c.json({
      service: "wattcast",
      endpoints: {
        train: "POST /trainmodel/",
        train_batch: "POST /trainmodel/batch",
        group: "GET /trainmodel/groups/{group_id}",
        status: "GET /trainmodel/status/{task_id}",
        stream: "GET /trainmodel/stream/{task_id}?events=status,heartbeat,error",
        streams: "GET /trainmodel/stream?task_ids={id},{id},…",
        all_events: "GET /trainmodel/events?meter_type=&meter_id=&status=&events=",
        cancel: "DELETE /trainmodel/{task_id}",
        tasks: "GET /trainmodel/tasks?status=&meter_type=&meter_id=&limit=50&cursor=",
        meters: "GET /meters?limit=50&cursor=, GET /meters/{meter_type}?limit=50&cursor=",
        upload_readings: "POST /meters/{meter_type}/{meter_id}/readings?site_id=",
        readings: "GET /meters/{meter_type}/{meter_id}/readings?hours=168",
        delete_readings: "DELETE /meters/{meter_type}/{meter_id}/readings?from=&to=",
        meter: "GET|DELETE /meters/{meter_type}/{meter_id}",
        link_site: "PUT /meters/{meter_type}/{meter_id}",
        weather: "POST /sites/{site_id}/weather, GET /sites/{site_id}/weather?from=&to=",
        calendar: "PUT|GET|DELETE /sites/{site_id}/calendar",
        forecast: "GET /forecast/{meter_type}/{meter_id}?horizon=24&from=",
        stream_token: "POST /auth/stream-token",
        webhooks: "POST /webhooks, GET /webhooks, GET|DELETE /webhooks/{id}",
        webhook_deliveries:
          "GET /webhooks/{id}/deliveries, GET /webhooks/tasks/{task_id}/deliveries",
        webhook_replay:
          "POST /webhooks/{id}/deliveries/{delivery_id}/replay, POST /webhooks/tasks/{task_id}/deliveries/{delivery_id}/replay",
        health: "GET /health/",
        metrics: "GET /metrics",
        docs: "GET /docs",
        openapi: "GET /openapi.json",
      },
    }, 200));
  const tokens = { tokens: deps.auth.tokens, times: deps.streamTokenTimes };
  app.route("/trainmodel", createBatchRoutes({ ...deps, ...tokens }));
  app.route("/trainmodel", createTrainRoutes({ ...deps, ...tokens }));
  app.route("/trainmodel", createEventsRoutes({ ...deps, log: deps.broker }));
  app.route("/meters", createMeterRoutes(deps));
  app.route("/forecast", createForecastRoutes(deps.forecaster));
  app.route("/sites", createSiteRoutes(deps));
  app.route(
    "/webhooks",
    createWebhookRoutes({
      store: deps.broker.webhooks,
      settings: deps.webhooks,
      wake: deps.wakeWebhooks,
    }),
  );
  app.route("/auth", createAuthRoutes({ ...tokens, taskOf: deps.tracker.get }));
  app.route("/health", createHealthRoutes(deps.info, deps.health));
  app.route("/metrics", createMetricsRoutes(metrics, deps.metricsToken ?? null));
  app.route("/docs", createDocsRoutes());
  serveOpenApiDocument(app);

  app.notFound((c) =>
    c.json(
      errorBody(
        "not_found",
        `There is no ${c.req.method} ${new URL(c.req.url).pathname}; GET / lists the endpoints.`,
      ),
      404,
    )
  );
  app.onError((error, c) => {
    if (error instanceof ApiError) return sendError(c, error);
    if (error instanceof HTTPException && error.status === 415) {
      // A route that declares a JSON body refuses any other Content-Type before its handler.
      return c.json(
        errorBody(
          "unsupported_media_type",
          `This request's body must be JSON: send it with Content-Type: application/json (it came as ${
            JSON.stringify(c.req.header("content-type") ?? "no Content-Type")
          }).`,
        ),
        415,
      );
    }
    if (error instanceof HTTPException && /^Malformed JSON/.test(error.message)) {
      // A route that validates a JSON body could not parse it: a bad field like any other.
      return sendError(
        c,
        validationError([{ field: "(body)", message: "must be JSON; it could not be parsed" }]),
      );
    }
    if (isClientAbort(error)) {
      // The client went away mid-request (an upload cancelled, say): one
      // line, not a stack trace; nobody is left to read an answer.
      // Placeholders, not interpolation: a path may hold LogTape's braces.
      log.warn("{method} {path}: the client closed the connection mid-request.", {
        method: c.req.method,
        path: c.req.path,
      });
      return c.json(errorBody("client_closed", "The client closed the connection."), 400);
    }
    log.error("{method} {path} failed (request {request_id}): {error}", {
      method: c.req.method,
      path: c.req.path,
      request_id: requestIdOf(c),
      error,
    });
    return c.json(
      errorBody(
        "internal_error",
        "The server failed to handle this request; the error is in the service log. Try again, and report it if it persists.",
      ),
      500,
    );
  });
  return app;
}

/** True when a request failed because its client went away, not because of the service. */
function isClientAbort(error: unknown): boolean {
  // node:http says "aborted" (ECONNRESET); Deno.serve cannot read the body
  // of a connection that is gone (BadResource). request.signal is no help:
  // Deno.serve warns when it is read, and aborts it on success too.
  if (error instanceof Deno.errors.BadResource) return true;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === "ECONNRESET" || /^aborted$/.test(String(message ?? ""));
}
