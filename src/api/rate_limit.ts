/**
 * The rate-limit middleware: counts starting tasks, uploads, forecasts and
 * stream opens per principal (per client address with authentication off)
 * against `src/limits/`, and holds a stream slot for every open stream of a
 * principal. Past a limit: `429` in the one error shape with `Retry-After`
 * and the IETF `RateLimit` / `RateLimit-Policy` headers (counted answers
 * carry the latter too); when the limits' store (Redis) cannot be reached,
 * starting tasks and uploads are a `503`, reads go on.
 *
 * A stream's slot is released when the stream closes: the stream code calls
 * `takeStreamEnd` when it opens one; a request that opens none (a 404, a
 * 204) gives its slot back at once.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Limits } from "../limits/limits.ts";
import { limitKey } from "../limits/limits.ts";
import type { LimitKind } from "../limits/rate_limits.ts";
import { rateLimitHeaders } from "../limits/rate_limit_headers.ts";
import { principalOf } from "./access.ts";
import { ApiError } from "./errors.ts";
import {
  BATCH_PATH,
  isStreamPath,
  READINGS_PATH,
  SITE_WEATHER_PATH,
  TASKS_PATH,
} from "./route_scopes.ts";
import type { Metrics } from "../metrics/metrics.ts";

/** The kind of request counted, by method and path; null for requests not counted. */
export function limitKindFor(method: string, path: string): LimitKind | null {
  // A batch counts as one request: the queue bounds limit how many tasks it starts.
  if (method === "POST" && (TASKS_PATH.test(path) || BATCH_PATH.test(path))) return "train";
  // Weather is an upload too: as large as readings, parsed and merged the same way.
  if (method === "POST" && (READINGS_PATH.test(path) || SITE_WEATHER_PATH.test(path))) {
    return "upload";
  }
  if (method === "GET" && /^\/forecast\//.test(path)) return "forecast";
  if (method === "GET" && isStreamPath(path)) return "stream";
  return null;
}

/** The client's address, from whichever HTTP server runs the app; "unknown" when none says. */
export function clientAddress(c: Context): string {
  const env = c.env as {
    incoming?: { socket?: { remoteAddress?: string } };
    remoteAddr?: { hostname?: string };
  } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? env?.remoteAddr?.hostname ?? "unknown";
}

const streamEnds = new WeakMap<Request, { release(): void; taken: boolean }>();

/** For the stream code: what to call when the stream opened for this request closes. */
export function takeStreamEnd(c: Context): () => void {
  const end = streamEnds.get(c.req.raw);
  if (!end) return () => {};
  end.taken = true;
  return end.release;
}

/** Builds the middleware (after authentication, which names the principal). */
export function rateLimits(
  limits: Limits,
  metrics?: Pick<Metrics, "refused">,
): MiddlewareHandler {
  return async (c, next) => {
    const kind = limitKindFor(c.req.method, c.req.path);
    if (kind === null) return await next();
    const key = limitKey(principalOf(c), clientAddress(c));
    const result = await limits.rates.limit(key, kind);
    const headers = rateLimitHeaders(result);
    if (!result.allowed) {
      metrics?.refused(kind, result.unavailable ? "unavailable" : "rate");
      if (result.unavailable) {
        throw new ApiError(
          503,
          "limits_unavailable",
          "The service cannot check its request limits right now (its Redis is unreachable), so it starts and stores nothing. Try again in a few seconds.",
          null,
          headers,
        );
      }
      const { limit, windowSeconds } = result.policy;
      throw new ApiError(
        429,
        "rate_limited",
        `Too many ${
          describe(kind)
        }: at most ${limit} per ${windowSeconds} seconds for each caller. Try again in ${result.retryAfterSeconds} seconds.`,
        { kind, limit, window_seconds: windowSeconds },
        headers,
      );
    }
    let end: { release(): void; taken: boolean } | null = null;
    if (kind === "stream") {
      const slot = await limits.streams.acquire(key);
      if (!slot.acquired) {
        metrics?.refused(kind, "open_streams");
        throw new ApiError(
          429,
          "too_many_open_streams",
          `This caller has ${slot.held} event streams open, the most it may (STREAM_LIMIT_PER_PRINCIPAL is ${slot.limit}). Close one, or follow several tasks on one stream (GET /trainmodel/stream?task_ids=… or /trainmodel/events).`,
          { open_streams: slot.held, limit: slot.limit },
          { "Retry-After": String(slot.retryAfterSeconds) },
        );
      }
      let released = false;
      end = {
        taken: false,
        release: () => {
          if (released) return;
          released = true;
          void slot.slot?.release().catch(() => {});
        },
      };
      streamEnds.set(c.req.raw, end);
    }
    try {
      await next();
    } finally {
      if (end && !end.taken) end.release();
    }
    for (const [name, value] of Object.entries(headers)) {
      try {
        c.res.headers.set(name, value);
      } catch {
        // A response whose headers are already sent (a stream): they stay as they are.
      }
    }
  };
}

function describe(kind: LimitKind): string {
  return {
    train: "training tasks started",
    upload: "readings uploads",
    forecast: "forecasts",
    stream: "event streams opened",
  }[kind];
}
