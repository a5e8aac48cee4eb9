/**
 * Reads a JSON request body strictly: a body that is not JSON, or that
 * gives a key twice, is a `422` naming it, as any bad field is.
 *
 * @module
 */
import { validationError } from "./errors.ts";
import { DuplicateKeyError, parseJsonStrict } from "../util/strict_json.ts";

/** Parses `text` as JSON; `example` is shown when it is not JSON. @throws {ApiError} */
export function parseJsonBody(text: string, example: string): unknown {
  try {
    return parseJsonStrict(text);
  } catch (error) {
    if (error instanceof DuplicateKeyError) {
      throw validationError([{
        field: error.path === "$"
          ? error.key
          : `${error.path.slice(1)}.${error.key}`.replace(/^\./, ""),
        message: "appears twice in the body; send each field once",
      }]);
    }
    throw validationError([{ field: "(body)", message: `must be JSON, such as ${example}` }]);
  }
}
