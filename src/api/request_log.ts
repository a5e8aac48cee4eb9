/**
 * One line per request when `DEBUG` is on: method, path, status and time,
 * with credentials kept out. Hono's `logger` prints the whole URL, and a
 * stream token travels in the query string (`?token=`), so this one prints
 * the query with the values of credential-like parameters redacted.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";

const SECRET_PARAM = /token|key|secret|password|auth|signature/i;

/** The path and query of `url`, credential-like parameter values replaced by `[redacted]`. */
export function redactedPath(url: string): string {
  const parsed = new URL(url);
  if (!parsed.search) return parsed.pathname;
  const parts = [...parsed.searchParams].map(([name, value]) =>
    `${encodeURIComponent(name)}=${
      SECRET_PARAM.test(name) ? "[redacted]" : encodeURIComponent(value).slice(0, 200)
    }`
  );
  return `${parsed.pathname}?${parts.join("&")}`;
}

/** Logs each request once answered (for a stream: once its headers are sent). */
export function requestLog(print: (line: string) => void = console.log): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    print(
      `${c.req.method} ${redactedPath(c.req.url)} ${c.res.status} ${
        Math.round(performance.now() - started)
      }ms`,
    );
  };
}
