/**
 * Reads a JSON request body strictly: a body that is not JSON, or that
 * gives a key twice, is a `422` naming it, as any bad field is. Routes that
 * read their body themselves call `parseJsonBody`; routes whose body the
 * OpenAPI validator reads (`c.req.valid("json")`, which keeps the last of
 * two equal keys) put `refuseRepeatedKeys` before it. A test in
 * `tests/openapi_test.ts` sends a repeated key to every documented JSON
 * route, so a new route that forgets both fails it.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { ApiError, validationError } from "./errors.ts";
import { DuplicateKeyError, parseJsonStrict } from "../util/strict_json.ts";

/** Parses `text` as JSON; `example` is shown when it is not JSON. @throws {ApiError} */
export function parseJsonBody(text: string, example: string): unknown {
  try {
    return parseJsonStrict(text);
  } catch (error) {
    if (error instanceof DuplicateKeyError) throw repeatedKey(error);
    throw validationError([{ field: "(body)", message: `must be JSON, such as ${example}` }]);
  }
}

/** The `422` naming a repeated key by its path (`site_id`, `meters.3.meter_id`). */
function repeatedKey(error: DuplicateKeyError): ApiError {
  return validationError([{
    field: error.path === "$"
      ? error.key
      : `${error.path.slice(1)}.${error.key}`.replace(/^\./, ""),
    message: "appears twice in the body; send each field once",
  }]);
}

/**
 * The middleware refusing a JSON body that gives a key twice, before a
 * validator that would keep one of the two silently. Other bodies pass
 * unchanged: one that is not JSON, or not sent as JSON, is the validator's
 * to refuse (`422`, `415`). Put it after the route's body limit.
 */
export function refuseRepeatedKeys(): MiddlewareHandler {
  return async (c, next) => {
    if (/json/i.test(c.req.header("Content-Type") ?? "")) {
      try {
        parseJsonStrict(await c.req.text());
      } catch (error) {
        if (error instanceof DuplicateKeyError) throw repeatedKey(error);
      }
    }
    await next();
  };
}
