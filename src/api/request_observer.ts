/**
 * Sees every request once it is over: gives it a request id (the client's
 * `X-Request-Id` when sane, else a new UUID, returned on every answer), and
 * once it is answered (an event stream: once it closed) hands its method,
 * route pattern (`/trainmodel/status/:task_id`, never the raw path with its
 * ids), status, duration and principal to the observers: the metrics and
 * the request log.
 *
 * A stream's handler returns before the stream ends; the stream code calls
 * `deferRequestEnd` when it opens one and the returned function when it
 * closes, so a stream is measured by how long it stayed open.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { ANONYMOUS } from "../domain/principal.ts";
import { principalOf } from "./access.ts";
import { logger } from "../logging/logging.ts";

const log = logger("http");

/** A request, once over. */
export interface RequestRecord {
  method: string;
  /** The route pattern it matched; `unmatched` when none did. */
  route: string;
  /** The URL it asked for (the observer redacts what it prints). */
  url: string;
  status: number;
  /** Milliseconds from arrival to the answer (a stream: to its close). */
  ms: number;
  requestId: string;
  /** The principal's name; null while authentication is off (or before it named one). */
  principal: string | null;
}

/** Called once per request when it is over. */
export type RequestObserver = (record: RequestRecord) => void;

/** The request id header, read and returned. */
export const REQUEST_ID_HEADER = "X-Request-Id";

const SANE_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** What the middleware keeps of a request: its id, and its end (deferred by a stream). */
interface Observed {
  requestId: string;
  taken: boolean;
  finish(): void;
}

const observed = new WeakMap<Request, Observed>();

/** The request's id (the client's when sane, else a UUID); "" outside the middleware. */
export function requestIdOf(c: Context): string {
  return observed.get(c.req.raw)?.requestId ?? "";
}

/** The route pattern a request matched (its handler's path, not middleware's); `unmatched` for none. */
export function routeOf(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    if (routes[i].method !== "ALL") return routes[i].path;
  }
  return "unmatched";
}

/**
 * For the stream code: the request ends when the stream closes, not when
 * its handler returns; call the returned function at the close.
 */
export function deferRequestEnd(c: Context): () => void {
  const deferral = observed.get(c.req.raw);
  if (!deferral) return () => {};
  deferral.taken = true;
  return deferral.finish;
}

/** Builds the middleware (first, so it sees every answer, errors included). */
export function observeRequests(observers: RequestObserver[]): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    const given = c.req.header(REQUEST_ID_HEADER);
    const requestId = given !== undefined && SANE_ID.test(given) ? given : crypto.randomUUID();
    c.header(REQUEST_ID_HEADER, requestId);
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      const principal = principalOf(c);
      const record: RequestRecord = {
        method: c.req.method,
        route: routeOf(c),
        url: c.req.url,
        status: c.res.status,
        ms: performance.now() - started,
        requestId,
        principal: principal === ANONYMOUS ? null : principal.name,
      };
      for (const observer of observers) {
        try {
          observer(record);
        } catch (error) {
          log.error("A request observer failed: {error}", { error });
        }
      }
    };
    const deferral: Observed = { requestId, taken: false, finish };
    observed.set(c.req.raw, deferral);
    await next();
    try {
      c.res.headers.set(REQUEST_ID_HEADER, requestId);
    } catch {
      // Headers already sent (a stream): it has the id from c.header above.
    }
    if (!deferral.taken) finish();
  };
}
