/**
 * The one JSON error shape of the API:
 * `{"error": {"code": "…", "message": "…", "details": …}}`.
 *
 * @module
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";

/** An error answered to the client as it is. */
export class ApiError extends Error {
  /** HTTP status. */
  readonly status: ContentfulStatusCode;
  /** Machine-readable code. */
  readonly code: string;
  /** Extra facts, such as the bad fields. */
  readonly details: unknown;
  /** Response headers to send with it, such as `Retry-After`. */
  readonly headers: Record<string, string>;

  /** Creates the error. */
  constructor(
    status: ContentfulStatusCode,
    code: string,
    message: string,
    details: unknown = null,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
}

/** One invalid field of a request. */
export interface FieldProblem {
  /** The field's name (dotted path), or `(body)` for the whole body. */
  field: string;
  /** What is wrong with it. */
  message: string;
}

/** The JSON body of an error. */
export function errorBody(
  code: string,
  message: string,
  details: unknown = null,
) {
  return { error: { code, message, details } };
}

/** Answers an error in the API's JSON shape. */
export function sendError(c: Context, error: ApiError): Response {
  return c.json(
    errorBody(error.code, error.message, error.details),
    error.status,
    error.headers,
  );
}

/** A 422 naming each bad field. */
export function validationError(fields: FieldProblem[]): ApiError {
  return new ApiError(
    422,
    "validation_failed",
    `Invalid request: ${fields.map((f) => `${f.field} ${f.message}`).join("; ")}.`,
    { fields },
  );
}

/** The bad fields of a zod error, one entry per field (unknown keys each named). */
export function fieldProblems(error: ZodError): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push({
          field: [...issue.path, key].join("."),
          message: "is not a known field",
        });
      }
    } else {
      out.push({
        field: issue.path.length ? issue.path.join(".") : "(body)",
        message: issue.message,
      });
    }
  }
  return out;
}
