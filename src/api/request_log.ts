/**
 * One log line per request, once it is over (a stream: once it closed):
 * method, path, status, duration, route pattern, request id and, with
 * authentication on, the principal's name; with credentials kept out.
 * Hono's `logger` prints the whole URL, and a stream token travels in the
 * query string (`?token=`), so this one prints the query with the values of
 * credential-like parameters redacted; headers are never logged.
 *
 * @module
 */
import type { RequestObserver, RequestRecord } from "./request_observer.ts";

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

/** What a request's log line holds, as structured fields. */
export interface RequestLogFields extends Record<string, unknown> {
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  route: string;
  request_id: string;
  principal?: string;
}

/** The structured fields of a request's line. */
export function requestLogFields(record: RequestRecord): RequestLogFields {
  return {
    method: record.method,
    path: redactedPath(record.url),
    status: record.status,
    duration_ms: Math.round(record.ms * 10) / 10,
    route: record.route,
    request_id: record.requestId,
    ...(record.principal !== null ? { principal: record.principal } : {}),
  };
}

/** The message template of a request's line (LogTape placeholders). */
export const REQUEST_LINE =
  "{method} {path} {status} {duration_ms}ms route={route} request_id={request_id}";

/** A request observer that logs each request through `log` (a LogTape logger's `info`, say). */
export function requestLog(
  log: (message: string, fields: RequestLogFields) => void,
): RequestObserver {
  return (record) => {
    const fields = requestLogFields(record);
    log(
      fields.principal === undefined ? REQUEST_LINE : `${REQUEST_LINE} principal={principal}`,
      fields,
    );
  };
}
